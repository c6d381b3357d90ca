/** `0x…` for a non-negative integer, the value as written otherwise (NaN, -1, 1.5, an object's class). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? `0x${v.toString(16)}` : String(v);
}
