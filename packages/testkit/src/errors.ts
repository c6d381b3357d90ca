import { hex, isVmError } from '@vmlayers/phys';
import type { Errno, VmError } from '@vmlayers/phys';
import { expect } from 'vitest';

/**
 * The errno `code` a call throws, or undefined when it returns. Tests assert the code and then that nothing
 * changed, so they need the code as a value rather than a matcher. Anything thrown without a string `code` (a
 * `TypeError`, a `RangeError`) is rethrown: it is a bug, not an errno.
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

/** What a call did, as a failure message shows it: `returned 0x1000`, `threw TypeError: …`, `threw VmError EFAULT: …`. */
export function outcomeOf(fn: () => unknown): string {
  try {
    return `returned ${hex(fn())}`;
  } catch (e) {
    if (isVmError(e)) return `threw VmError ${e.message}`;
    if (e instanceof Error) return `threw ${e.name}: ${e.message}`;
    return `threw ${hex(e)}`;
  }
}

/**
 * Asserts (with vitest's `expect`) that `fn` throws a `VmError` whose code is `code` — not a `TypeError`, not
 * another errno, not a return — and returns the error. `what` names the case in the failure message, for tables
 * of cases run inside one test.
 */
export function expectErrno(fn: () => unknown, code: Errno, what?: string): VmError {
  let thrown: unknown;
  let threw = false;
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    threw = true;
    thrown = e;
  }
  const at = what === undefined ? '' : `${what}: `;
  if (!threw) expect.fail(`${at}expected VmError ${code}, but the call returned ${hex(result)}`);
  if (!isVmError(thrown)) {
    const got = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : hex(thrown);
    expect.fail(`${at}expected VmError ${code}, got ${got}`);
  }
  expect(thrown.code, `${at}expected VmError ${code}, got ${thrown.message}`).toBe(code);
  return thrown;
}

/**
 * {@link expectErrno} plus "state unchanged": takes `snapshot()` before and after the call and asserts the two are
 * deep-equal. `snapshot` is whatever sums up the state under test (`vm.meminfo()`, `km.stats()`, a map listing);
 * it may run invariant checks (`check()`) too, so they run on both sides of the call.
 */
export function expectUnchanged(snapshot: () => unknown, fn: () => unknown, code: Errno, what?: string): VmError {
  const before = snapshot();
  const e = expectErrno(fn, code, what);
  expect(snapshot(), `${what === undefined ? '' : `${what}: `}state changed by a refused call (${e.message})`).toEqual(before);
  return e;
}
