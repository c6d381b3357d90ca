/** The errno `code` a call throws, or undefined when it returns (phys cannot use testkit: testkit depends on it). */
export function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}
