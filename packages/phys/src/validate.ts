/*
 * Validation and formatting shared by every layer (one home, as `@thi.ng/checks` serves every thi.ng package).
 * Addresses, sizes and bit sets are JavaScript numbers holding exact integers below 2^53; anything else — a BigInt,
 * a numeric string, an array, NaN, a fraction — is refused here rather than coerced further down, where `>>>`,
 * `&` and `+` would turn it into a plausible-looking wrong value.
 */
import { VmError } from './errors.js';

/**
 * A value as an error message shows it: `0x…` for a non-negative safe integer (an address or a size), otherwise a
 * rendering that says what the value was — `String(v)` for other numbers (`-1`, `1.5`, `NaN`, `9007199254740992`),
 * `123n` for a BigInt, a quoted string, `null`, `undefined`, and the class name for an object (`Array`,
 * `Uint8Array`, `Object`). Never throws.
 */
export function hex(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Number.isSafeInteger(v) && v >= 0 ? `0x${v.toString(16)}` : String(v);
    case 'bigint':
      return `${v.toString()}n`;
    case 'string':
      return JSON.stringify(v);
    case 'object': {
      if (v === null) return 'null';
      const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
      return typeof name === 'string' && name !== '' ? name : 'Object';
    }
    case 'function':
      return `function ${(v as { name?: string }).name || '(anonymous)'}`;
    case 'symbol':
      return v.toString();
    default:
      return String(v);
  }
}

/** True when `v` is a number holding an exact integer in `[0, 2^53)`: an address or a size. Rejects BigInt. */
export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** True for 2^k, k = 0 … 52 (a number; BigInt and strings are not powers of two here). */
export function isPowerOfTwo(v: unknown): boolean {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) return false;
  // Exact for every safe integer: below 2^31 the bit trick, above it the quotient by the largest power of two.
  return v < 0x8000_0000 ? (v & (v - 1)) === 0 : 2 ** log2Floor(v) === v;
}

/**
 * True when `v` is an integer of bits inside `mask` (a non-negative number below 2^53). A value with bits at or
 * above 2^32 is refused even where `v & ~mask` would read 0: JavaScript's bit operators keep only the low 32 bits.
 */
export function hasOnlyBits(v: unknown, mask: number): v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return false;
  // Low and high words apart: v >>> 0 keeps bits 0–31 exactly, the quotient bits 32–52.
  return ((v >>> 0) & ~(mask >>> 0)) === 0 && (Math.floor(v / 2 ** 32) & ~Math.floor(mask / 2 ** 32)) === 0;
}

/** Throws `VmError('EINVAL')` naming `name` unless `v` is an exact integer in `[0, 2^53)` ({@link isUint}). */
export function checkUint(name: string, v: unknown): asserts v is number {
  if (!isUint(v)) throw new VmError('EINVAL', `${name} must be a non-negative integer below 2^53, got ${hex(v)}`);
}

/** Throws `VmError('EINVAL')` unless `v` is a positive exact integer below 2^53. */
export function checkSize(name: string, v: unknown): asserts v is number {
  checkUint(name, v);
  if (v === 0) throw new VmError('EINVAL', `${name} must be positive, got 0`);
}

/**
 * Throws `VmError('EINVAL')` unless `v` is an exact integer in `[0, 2^53)` and a multiple of `align` (a power of
 * two).
 */
export function checkAligned(name: string, v: unknown, align: number): asserts v is number {
  checkUint(name, v);
  if (v % align !== 0) throw new VmError('EINVAL', `${name} must be aligned to ${align} bytes, got ${hex(v)}`);
}

/** Throws `VmError('EINVAL')` unless `v` is an integer number in `[min, max]` (both inclusive). */
export function checkInt(name: string, v: unknown, min: number, max: number): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new VmError('EINVAL', `${name} must be an integer in [${hex(min)}, ${hex(max)}], got ${hex(v)}`);
  }
}

/**
 * Throws `VmError('EINVAL')` unless `v` is a set of the bits in `mask` ({@link hasOnlyBits}): unknown bits, bits
 * at or above 2^32, negative, fractional and non-number values are all refused.
 */
export function checkBits(name: string, v: unknown, mask: number): asserts v is number {
  if (!hasOnlyBits(v, mask)) throw new VmError('EINVAL', `${name} must be a set of the bits ${hex(mask)}, got ${hex(v)}`);
}

/** Floor of log2 for a positive integer below 2^53. */
export function log2Floor(v: number): number {
  return v < 0x1_0000_0000 ? 31 - Math.clz32(v) : 32 + (31 - Math.clz32(Math.floor(v / 0x1_0000_0000)));
}

/** Ceiling of log2 for a positive integer below 2^53 (the original's "round up to a power-of-two index"). */
export function log2Ceil(v: number): number {
  const f = log2Floor(v);
  return 2 ** f === v ? f : f + 1;
}
