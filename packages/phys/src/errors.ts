import { FaultCode } from './constants.js';

/**
 * The errno names the subsystem reports. They are the POSIX names the original kernel returns (negated) from
 * its C functions.
 */
export type Errno =
  | 'ENOMEM'
  | 'EINVAL'
  | 'EFAULT'
  | 'EACCES'
  | 'EEXIST'
  | 'ENOENT'
  | 'EBUSY'
  | 'EPERM'
  | 'ERANGE'
  | 'ENOSYS';

// Linux/POSIX numbering, so a trace or a test can compare with what a real kernel reports.
const ERRNO_NUMBERS: Readonly<Record<Errno, number>> = {
  EPERM: 1,
  ENOENT: 2,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EINVAL: 22,
  ERANGE: 34,
  ENOSYS: 38,
};

/**
 * The positive errno number of `name` (`ENOMEM` → 12, `EINVAL` → 22, …), as in Linux's `errno.h`.
 * Return-code APIs that report an errno return its negation, as the original kernel does.
 */
export function errnoCode(name: Errno): number {
  return ERRNO_NUMBERS[name];
}

/** Every errno name this subsystem can report, in numeric order. */
export const ERRNO_NAMES: readonly Errno[] = (Object.keys(ERRNO_NUMBERS) as Errno[]).sort(
  (a, b) => ERRNO_NUMBERS[a] - ERRNO_NUMBERS[b],
);

/**
 * The one error class of vmlayers. `code` is the errno name; the message names the argument and its value.
 * Whatever threw it left the state it was called on exactly as it was.
 */
export class VmError extends Error {
  /** The errno name, e.g. `'ENOMEM'`. */
  readonly code: Errno;

  constructor(code: Errno, message: string) {
    super(`${code}: ${message}`);
    this.name = 'VmError';
    this.code = code;
  }

  /** The positive errno number of {@link VmError.code}. */
  get errno(): number {
    return ERRNO_NUMBERS[this.code];
  }
}

/** True when `e` is a {@link VmError}, optionally with the given code. Works across ESM/CJS copies of the class. */
export function isVmError(e: unknown, code?: Errno): e is VmError {
  if (!(e instanceof Error) || e.name !== 'VmError') return false;
  const c = (e as Partial<VmError>).code;
  return typeof c === 'string' && c in ERRNO_NUMBERS && (code === undefined || c === code);
}

/**
 * The errno a refused access reports, from the `FaultCode` that refused it: `PROTECTION` → `EACCES` (the page is
 * there, the access is not allowed), `NO_MEMORY` → `ENOMEM` (a frame or a table could not be had), anything else
 * (`NOT_MAPPED`, `NON_CANONICAL`, `BAD_ADDRESS`, or a value that is no `FaultCode`) → `EFAULT`. The one mapping
 * every layer uses when it turns a fault code into a `VmError`.
 */
export function faultErrno(code: number): 'EACCES' | 'EFAULT' | 'ENOMEM' {
  if (code === FaultCode.PROTECTION) return 'EACCES';
  if (code === FaultCode.NO_MEMORY) return 'ENOMEM';
  return 'EFAULT';
}
