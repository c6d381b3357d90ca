/*
 * A TLB slot stores the set of `Access` codes it allows as a 16-bit mask, bit `a` set when access code `a`
 * (READ/WRITE/EXEC bits, plus USER for user mode) is permitted. The hit path then needs one shift and one AND,
 * whatever combination of kinds an access asks for.
 */

const MASKS = new Int32Array(64);
for (let sup = 0; sup < 8; sup++) {
  for (let usr = 0; usr < 8; usr++) {
    let m = 0;
    for (let kinds = 1; kinds < 8; kinds++) {
      if ((kinds & ~sup) === 0) m |= 1 << kinds;
      if ((kinds & ~usr) === 0) m |= 1 << (kinds | 8);
    }
    MASKS[sup | (usr << 3)] = m;
  }
}

/**
 * The allowed-access mask for a page whose supervisor-mode kinds are `sup` and user-mode kinds `usr` (each a set of
 * `Access.READ|WRITE|EXEC` bits). Codes without any kind bit (0 and `USER` alone) are never allowed.
 */
export function accessMask(sup: number, usr: number): number {
  return MASKS[(sup & 7) | ((usr & 7) << 3)];
}

/** True when `access` is a well-formed access code: an integer of `Access` bits with at least one kind. */
export function isAccessCode(access: number): boolean {
  return access === (access & 15) && (access & 7) !== 0;
}
