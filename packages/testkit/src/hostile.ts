/** A value a hostile or careless caller might pass, with the name a test table shows for it. */
export interface HostileValue {
  readonly name: string;
  readonly value: unknown;
}

// Holes on purpose: `[, 4096]` has no element 0, which `forEach`/`map` skip and `for…of` visits as undefined.
const sparse = [, 4096];

/**
 * Values that are not an exact integer in `[0, 2^53)` — no address, size, count or bit set at all, whatever the
 * argument — so every layer must refuse them with `VmError('EINVAL')` (or, where a call returns codes, a code):
 * NaN, ±Infinity, negative, fractional, 2^53 and 2^64 (not exact), a BigInt, a numeric string, null, undefined,
 * arrays (which `+`, `>>>` and `&` would turn into numbers), a sparse array, an object, a boolean.
 */
export const NOT_UINTS: readonly HostileValue[] = Object.freeze([
  { name: 'NaN', value: NaN },
  { name: 'Infinity', value: Infinity },
  { name: '-Infinity', value: -Infinity },
  { name: '-1', value: -1 },
  { name: '-4096', value: -4096 },
  { name: '0.5', value: 0.5 },
  { name: '4096.5', value: 4096.5 },
  { name: '2**53', value: 2 ** 53 },
  { name: '2**53+2', value: 2 ** 53 + 2 },
  { name: '2**64', value: 2 ** 64 },
  { name: '4096n', value: 4096n },
  { name: "'4096'", value: '4096' },
  { name: 'null', value: null },
  { name: 'undefined', value: undefined },
  { name: '[]', value: [] },
  { name: '[4096]', value: [4096] },
  { name: '[, 4096]', value: sparse },
  { name: '{}', value: {} },
  { name: 'true', value: true },
]);

/**
 * Exact integers past 32 bits: valid numbers that 32-bit arithmetic (`>>> 0`, `|`, `&`, `Math.clz32`) silently
 * truncates — `2**32` reads as 0, `2**32 + 1` as 1 — so they catch validation done with bit operators. Whether
 * one is refused (`EINVAL`), too large (`ENOMEM`) or fine depends on the argument.
 */
export const WIDE_UINTS: readonly HostileValue[] = Object.freeze([
  { name: '2**32', value: 2 ** 32 },
  { name: '2**32+1', value: 2 ** 32 + 1 },
  { name: '2**32+4096', value: 2 ** 32 + 4096 },
  { name: '2**53-1', value: 2 ** 53 - 1 },
]);
