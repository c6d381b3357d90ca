import { VmError, checkInt, hex } from '@vmlayers/phys';

/** The ARMv7-M address space is 32 bits wide: `[0, 2^32)`. */
export const ADDRESS_SPACE_END = 0x1_0000_0000;

/** Throws `EINVAL` unless `v` is a 32-bit word (an integer in `[0, 2^32)`). */
export function checkWord(name: string, v: unknown): asserts v is number {
  checkInt(name, v, 0, 0xffff_ffff);
}

/** Throws `EINVAL` unless `v` is a boolean. */
export function checkBool(name: string, v: unknown): asserts v is boolean {
  if (typeof v !== 'boolean') throw new VmError('EINVAL', `${name} must be a boolean, got ${hex(v)}`);
}

/** True when `access` is an access code: an integer of `Access` bits (0–15) with at least one of READ/WRITE/EXEC. */
export function isAccessCode(access: unknown): access is number {
  return typeof access === 'number' && access === (access & 15) && (access & 7) !== 0;
}
