import { Access, FaultCode, isVmError } from '@vmlayers/phys';
import type { Errno } from '@vmlayers/phys';
import fc from 'fast-check';
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

/** Access codes, as the tests combine them: `R | U` is an unprivileged read. */
export const R = Access.READ;
export const W = Access.WRITE;
export const X = Access.EXEC;
export const U = Access.USER;

/**
 * What an access gets from an M-profile MPU around its region lookup, read literally from the manuals (ARMv7-M
 * B3.5, the ARMv8-M MPU check), for the brute-force models: junk → BAD_ADDRESS; an instruction fetch from System
 * space → PROTECTION; the PPB unchecked and privileged only; with MPU_CTRL.ENABLE, `decide()` gives the verdict
 * when regions hold `va` (undefined when none does), else a background fault unless privileged under PRIVDEFENA;
 * then the default map, Execute Never in its Peripheral and Device ranges.
 */
export function modelAccess(ctrl: number, va: number, access: number, decide: () => number | undefined): number {
  if (!Number.isInteger(va) || va < 0 || va >= 2 ** 32) return FaultCode.BAD_ADDRESS;
  const user = (access & Access.USER) !== 0;
  const exec = (access & Access.EXEC) !== 0;
  if (exec && va >= 0xe000_0000) return FaultCode.PROTECTION;
  if (va >= 0xe000_0000 && va < 0xe010_0000) return user ? FaultCode.BAD_ADDRESS : 0;
  if (ctrl & 1) {
    const verdict = decide();
    if (verdict !== undefined) return verdict;
    if (user || !(ctrl & 4)) return FaultCode.NOT_MAPPED;
  }
  const defaultXn = (va >= 0x4000_0000 && va < 0x6000_0000) || va >= 0xa000_0000;
  return exec && defaultXn ? FaultCode.PROTECTION : 0;
}

/** The verdict of one region on an access, from what its AP grants: `[privileged R, W, unprivileged R, W]`. */
export function modelPermission(grants: readonly [boolean, boolean, boolean, boolean], executable: boolean, access: number): number {
  const [pr, pw, ur, uw] = grants;
  const user = (access & Access.USER) !== 0;
  const canRead = user ? ur : pr;
  const canWrite = user ? uw : pw;
  const bad = ((access & Access.READ) !== 0 && !canRead) || ((access & Access.WRITE) !== 0 && !canWrite) || ((access & Access.EXEC) !== 0 && !(canRead && executable));
  return bad ? FaultCode.PROTECTION : 0;
}

/**
 * Asserts the verdicts of `permit` at `va` for every access kind and privilege against what an AP grants
 * (`[privileged R, W, unprivileged R, W]`): execute needs read at its level and `executable`.
 */
export function expectApVerdicts(permit: (va: number, access: number) => number, va: number, grants: readonly [boolean, boolean, boolean, boolean], executable: boolean): void {
  for (const access of [R, W, R | W, X, R | U, W | U, X | U]) {
    expect(permit(va, access), `access ${access}`).toBe(modelPermission(grants, executable, access));
  }
}

/**
 * Addresses for the brute-force models: mostly around the 64 KiB `window` the regions crowd, some anywhere, and
 * the edges (junk, the PPB, the default map's Peripheral and Device bases).
 */
export function modelAddress(window: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: window - 0x100, max: window + 0x1_0100 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 32, 0.5, 0xe000_ed04, 0x4000_0000, 0xa000_0000) },
  );
}
