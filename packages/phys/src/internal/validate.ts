import { VmError } from '../errors.js';

/** The largest address or size the subsystem handles: every number must stay an exact integer. */
export const MAX_ADDRESS = Number.MAX_SAFE_INTEGER;

function show(v: unknown): string {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return `0x${v.toString(16)}`;
  return String(v);
}

/** Throws `EINVAL` unless `v` is an exact integer in [0, 2^53). */
export function checkUint(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new VmError('EINVAL', `${name} must be a non-negative integer below 2^53, got ${show(v)}`);
  }
}

/** Throws `EINVAL` unless `v` is a positive exact integer. */
export function checkSize(name: string, v: unknown): asserts v is number {
  checkUint(name, v);
  if (v === 0) throw new VmError('EINVAL', `${name} must be positive, got 0`);
}

/** Throws `EINVAL` unless `v` is a multiple of `align` (a power of two). */
export function checkAligned(name: string, v: number, align: number): void {
  if (v % align !== 0) throw new VmError('EINVAL', `${name} must be aligned to ${align} bytes, got ${show(v)}`);
}

export function isPowerOfTwo(v: number): boolean {
  return Number.isSafeInteger(v) && v > 0 && 2 ** Math.round(Math.log2(v)) === v;
}

/** Floor of log2 for a positive integer up to 2^53. */
export function log2Floor(v: number): number {
  return v < 0x1_0000_0000 ? 31 - Math.clz32(v) : 32 + (31 - Math.clz32(Math.floor(v / 0x1_0000_0000)));
}

/** Ceiling of log2 for a positive integer up to 2^53 (the original's "round up to a power-of-two index"). */
export function log2Ceil(v: number): number {
  const f = log2Floor(v);
  return 2 ** f === v ? f : f + 1;
}

export function hex(v: number): string {
  return `0x${v.toString(16)}`;
}
