import { describe, expect, it } from 'vitest';
import { ERRNO_NAMES, VmError, errnoCode, isVmError } from '../src/index.js';

describe('VmError', () => {
  it('carries the errno name and number and names the argument in the message', () => {
    const e = new VmError('EINVAL', 'size must be positive, got 0');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('EINVAL');
    expect(e.errno).toBe(22);
    expect(e.message).toBe('EINVAL: size must be positive, got 0');
    expect(isVmError(e, 'EINVAL')).toBe(true);
    expect(isVmError(e, 'ENOMEM')).toBe(false);
    expect(isVmError(new Error('x'))).toBe(false);
  });

  it('maps every errno name to its Linux number', () => {
    expect(ERRNO_NAMES.map((n) => [n, errnoCode(n)])).toEqual([
      ['EPERM', 1],
      ['ENOENT', 2],
      ['ENOMEM', 12],
      ['EACCES', 13],
      ['EFAULT', 14],
      ['EBUSY', 16],
      ['EEXIST', 17],
      ['EINVAL', 22],
      ['ERANGE', 34],
      ['ENOSYS', 38],
    ]);
  });
});
