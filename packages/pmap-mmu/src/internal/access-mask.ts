/*
 * A TLB slot stores the set of `Access` codes it allows as a 16-bit mask, bit `a` set when access code `a`
 * (READ/WRITE/EXEC bits, plus USER for user mode) is permitted. The hit path then needs one shift and one AND,
 * whatever combination of kinds an access asks for.
 */

/**
 * The codes 1–7 whose kinds all lie in `kinds` (a set of READ=1, WRITE=2, EXEC=4), one bit per code. Eight bytes
 * packed in two literals — s=0..3: 0x00 0x02 0x04 0x0E, s=4..7: 0x10 0x32 0x54 0xFE — so the miss path reads no
 * table.
 */
function codesWithin(kinds: number): number {
  return ((kinds < 4 ? 0x0e04_0200 : 0xfe54_3210) >>> ((kinds & 3) * 8)) & 0xff;
}

/**
 * The allowed-access mask for a page whose supervisor-mode kinds are `sup` and user-mode kinds `usr` (each a set of
 * `Access.READ|WRITE|EXEC` bits). Codes without any kind bit (0 and `USER` alone) are never allowed.
 */
export function accessMask(sup: number, usr: number): number {
  return codesWithin(sup & 7) | (codesWithin(usr & 7) << 8);
}

/** True when `access` is a well-formed access code: an integer of `Access` bits with at least one kind. */
export function isAccessCode(access: number): boolean {
  return access === (access & 15) && (access & 7) !== 0;
}
