import { VmError, checkBits, hex } from '@vmlayers/phys';

/** Throws `EINVAL` unless `v` is a page-aligned exact integer in [0, 2^53). */
export function checkAddr(name: string, v: unknown, pageSize: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new VmError('EINVAL', `${name} must be a non-negative integer below 2^53, got ${hex(v)}`);
  }
  if (v % pageSize !== 0) throw new VmError('EINVAL', `${name} must be aligned to the ${pageSize}-byte page, got ${hex(v)}`);
}

/** A positive byte count rounded up to whole pages; zero, negative, fractional, NaN or ≥ 2^53 → `EINVAL`. */
export function pageRound(name: string, v: unknown, pageSize: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new VmError('EINVAL', `${name} must be a positive integer below 2^53, got ${hex(v)}`);
  }
  const rounded = Math.ceil(v / pageSize) * pageSize;
  if (!Number.isSafeInteger(rounded)) throw new VmError('EINVAL', `${name} ${hex(v)} rounded to pages passes 2^53`);
  return rounded;
}

/** Throws `EINVAL` unless `[addr, addr+len)` lies inside `[lo, hi)` (no wrap-around past the top). */
export function checkInside(addr: number, len: number, lo: number, hi: number, what: string): void {
  if (addr < lo || addr + len > hi || addr + len < addr) {
    throw new VmError('EINVAL', `range [${hex(addr)}, ${hex(addr + len)}) is outside the ${what} [${hex(lo)}, ${hex(hi)})`);
  }
}

/** Throws `EINVAL` unless `prot` is a combination of `Prot` bits. */
export function checkProt(prot: unknown): asserts prot is number {
  checkBits('prot', prot, 0xf);
}

/** True for an object that has every method and property a `Backing` needs. */
export function isBacking(b: unknown): boolean {
  if (b === null || typeof b !== 'object') return false;
  const o = b as Record<string, unknown>;
  return (
    typeof o.fault === 'function' &&
    typeof o.split === 'function' &&
    typeof o.canMerge === 'function' &&
    typeof o.merge === 'function' &&
    typeof o.fork === 'function' &&
    typeof o.copy === 'function' &&
    typeof o.shared === 'function' &&
    typeof o.unmap === 'function' &&
    typeof o.release === 'function' &&
    typeof o.contiguous === 'function' &&
    typeof o.maxProt === 'number' &&
    typeof o.name === 'string'
  );
}
