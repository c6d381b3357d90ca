import { VmError } from '@vmlayers/phys';

/** The ARMv7-M address space is 32 bits wide: `[0, 2^32)`. */
export const ADDRESS_SPACE_END = 0x1_0000_0000;

export function hex(v: number): string {
  return Number.isInteger(v) && v >= 0 ? `0x${v.toString(16)}` : String(v);
}

function show(v: unknown): string {
  return typeof v === 'number' ? hex(v) : String(v);
}

/** Throws `EINVAL` unless `v` is an integer in `[min, max]`. */
export function checkInt(name: string, v: unknown, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new VmError('EINVAL', `${name} must be an integer in [${hex(min)}, ${hex(max)}], got ${show(v)}`);
  }
}

/** Throws `EINVAL` unless `v` is a 32-bit word (an integer in `[0, 2^32)`). */
export function checkWord(name: string, v: unknown): asserts v is number {
  checkInt(name, v, 0, 0xffff_ffff);
}

/** Throws `EINVAL` unless `v` is a boolean. */
export function checkBool(name: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new VmError('EINVAL', `${name} must be a boolean, got ${String(v)}`);
}

/** True for 2^k, k = 0 … 53. */
export function isPowerOfTwo(v: number): boolean {
  return Number.isSafeInteger(v) && v > 0 && 2 ** Math.round(Math.log2(v)) === v;
}
