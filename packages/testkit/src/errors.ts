/**
 * The errno `code` a call throws, or undefined when it returns. Tests assert the code and then that nothing
 * changed, so they need the code as a value rather than a matcher.
 */
export function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    throw e;
  }
  return undefined;
}
