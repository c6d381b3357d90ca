import { VmError } from '@vmlayers/phys';

/** `0x…` for a non-negative integer, the value as written otherwise (NaN, -1, 1.5, a string). */
export function hex(v: unknown): string {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? `0x${v.toString(16)}` : String(v);
}

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
  if (typeof prot !== 'number' || !Number.isInteger(prot) || prot < 0 || prot > 0xf) {
    throw new VmError('EINVAL', `prot must be Prot bits (0..0xf), got ${hex(prot)}`);
  }
}

/** True for an object that has every method and property a `Backing` needs. */
export function isBacking(b: unknown): boolean {
  if (b === null || typeof b !== 'object') return false;
  const o = b as Record<string, unknown>;
  return (
    typeof o.fault === 'function' &&
    typeof o.split === 'function' &&
    typeof o.canMerge === 'function' &&
    typeof o.fork === 'function' &&
    typeof o.unmap === 'function' &&
    typeof o.release === 'function' &&
    typeof o.contiguous === 'function' &&
    typeof o.maxProt === 'number' &&
    typeof o.name === 'string'
  );
}
