import { isVmError } from '@vmlayers/phys';
import type { Errno } from '@vmlayers/phys';
import { expect } from 'vitest';

/** Asserts that `f` throws a `VmError` with `code` (and, if given, a message matching `message`). */
export function expectError(code: Errno, f: () => unknown, message?: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isVmError(caught, code), String(caught)).toBe(true);
  if (message) expect((caught as Error).message).toMatch(message);
}
