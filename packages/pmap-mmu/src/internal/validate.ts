import { VmError } from '@vmlayers/phys';

export function hex(v: number): string {
  return Number.isSafeInteger(v) && v >= 0 ? `0x${v.toString(16)}` : String(v);
}

/** Throws `EINVAL` unless `v` is an integer in `[lo, hi)` aligned to `align`. */
export function checkAddress(name: string, v: unknown, align: number, lo: number, hi: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new VmError('EINVAL', `${name} must be a non-negative integer below 2^53, got ${String(v)}`);
  }
  if (v % align !== 0) throw new VmError('EINVAL', `${name} must be aligned to ${align} bytes, got ${hex(v)}`);
  if (v < lo || v >= hi) throw new VmError('EINVAL', `${name} ${hex(v)} is outside [${hex(lo)}, ${hex(hi)})`);
}

/** Throws `EINVAL` unless `[start, end)` is a page-aligned range inside `[lo, hi]` with start ≤ end. */
export function checkRange(start: unknown, end: unknown, align: number, lo: number, hi: number): asserts start is number {
  for (const [name, v] of [
    ['vstart', start],
    ['vend', end],
  ] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new VmError('EINVAL', `${name} must be a non-negative integer below 2^53, got ${String(v)}`);
    }
    if (v % align !== 0) throw new VmError('EINVAL', `${name} must be aligned to ${align} bytes, got ${hex(v)}`);
  }
  const s = start as number;
  const e = end as number;
  if (s > e) throw new VmError('EINVAL', `vstart ${hex(s)} is above vend ${hex(e)}`);
  if (s < e && (s < lo || e > hi)) {
    throw new VmError('EINVAL', `range [${hex(s)}, ${hex(e)}) is outside [${hex(lo)}, ${hex(hi)})`);
  }
}

/** Throws `EINVAL` unless `attr` is an integer of `PageAttr` bits. */
export function checkAttr(attr: unknown): asserts attr is number {
  if (typeof attr !== 'number' || !Number.isInteger(attr) || attr < 0 || attr > 0xff) {
    throw new VmError('EINVAL', `attr must be PageAttr bits (0..0xff), got ${String(attr)}`);
  }
}
