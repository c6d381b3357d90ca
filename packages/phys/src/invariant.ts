/**
 * Throws when a data structure's invariant is broken. Used by every layer's `check()`: a broken invariant is a
 * bug in vmlayers (the original would panic), not bad input, so it is a plain `Error`, never a `VmError`.
 */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`vmlayers invariant broken: ${message}`);
}
