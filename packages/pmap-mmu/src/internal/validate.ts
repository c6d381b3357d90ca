import { VmError, checkAligned, checkBits, hex } from '@vmlayers/phys';

/** Every `PageAttr` bit (`PRESENT` … `DEVICE`). */
const PAGE_ATTR_ALL = 0xff;

/** Throws `EINVAL` unless `v` is an integer in `[lo, hi)` aligned to `align`. */
export function checkAddress(name: string, v: unknown, align: number, lo: number, hi: number): asserts v is number {
  checkAligned(name, v, align);
  if (v < lo || v >= hi) throw new VmError('EINVAL', `${name} ${hex(v)} is outside [${hex(lo)}, ${hex(hi)})`);
}

/** Throws `EINVAL` unless `[start, end)` is a page-aligned range inside `[lo, hi]` with start ≤ end. */
export function checkRange(start: unknown, end: unknown, align: number, lo: number, hi: number): asserts start is number {
  checkAligned('vstart', start, align);
  checkAligned('vend', end, align);
  if (start > end) throw new VmError('EINVAL', `vstart ${hex(start)} is above vend ${hex(end)}`);
  if (start < end && (start < lo || end > hi)) {
    throw new VmError('EINVAL', `range [${hex(start)}, ${hex(end)}) is outside [${hex(lo)}, ${hex(hi)})`);
  }
}

/** Throws `EINVAL` unless `attr` is a set of `PageAttr` bits (none at or above 2^32 either). */
export function checkAttr(attr: unknown): asserts attr is number {
  checkBits('attr', attr, PAGE_ATTR_ALL);
}
