import { Access, FaultCode, PageAttr } from '@vmlayers/phys';

const { PRESENT, READ, WRITE, EXEC, USER } = PageAttr;

export interface Entry {
  pa: number;
  attr: number;
}

/** The formats `expected` knows. */
export type ModelArch = 'sv39' | 'ia32' | 'aarch64' | 'armv7a';

/** What the architecture manual says an access to a page entered with `attr` does. */
export function expected(arch: ModelArch, e: Entry | undefined, access: number): number {
  if (!e || !(e.attr & PRESENT)) return FaultCode.NOT_MAPPED;
  const a = e.attr;
  if (arch === 'aarch64') return expectedAarch64(e, access);
  if (arch === 'armv7a') return expectedArmv7a(e, access);
  let kinds: number;
  if (arch === 'sv39') {
    const r = a & (READ | WRITE) || !(a & EXEC) ? Access.READ : 0;
    kinds = r | (a & WRITE ? Access.WRITE : 0) | (a & EXEC ? Access.EXEC : 0);
  } else {
    kinds = Access.READ | Access.EXEC | (a & WRITE ? Access.WRITE : 0);
  }
  const user = (access & Access.USER) !== 0;
  const isUserPage = (a & USER) !== 0;
  if (user && !isUserPage) return FaultCode.PROTECTION;
  if (!user && isUserPage && arch === 'sv39') return FaultCode.PROTECTION;
  return (access & 7 & ~kinds) === 0 ? e.pa : FaultCode.PROTECTION;
}


/*
 * VMSAv8-64 stage 1 (PAN = 0, WXN = 0) as the aarch64 pmap encodes `attr`: a USER page gives EL0 data access when
 * readable (READ or WRITE, or no EXEC: AP[1]), writes with WRITE, execution with EXEC (UXN clear); EL1 reads every
 * page, writes with WRITE, and executes only a non-USER page with EXEC (a USER page has PXN). A non-USER page is
 * out of EL0's reach (AP[1] = 0, UXN = 1).
 */
function expectedAarch64(e: Entry, access: number): number {
  const a = e.attr;
  const user = (access & Access.USER) !== 0;
  const isUserPage = (a & USER) !== 0;
  let kinds: number;
  if (user) {
    if (!isUserPage) return FaultCode.PROTECTION;
    const r = a & (READ | WRITE) || !(a & EXEC) ? Access.READ : 0;
    kinds = r | (r && a & WRITE ? Access.WRITE : 0) | (a & EXEC ? Access.EXEC : 0);
  } else {
    kinds = Access.READ | (a & WRITE ? Access.WRITE : 0) | (!isUserPage && a & EXEC ? Access.EXEC : 0);
  }
  return (access & 7 & ~kinds) === 0 ? e.pa : FaultCode.PROTECTION;
}

/*
 * ARMv7-A short descriptors (AFE = 0, no PAN) as the armv7a pmap encodes `attr`: a present page is readable at every
 * level it is reachable from (AP: user pages 011 / 111, kernel pages 001 / 101) — VMSAv7 has no execute-only memory,
 * a fetch needs read permission —, writable with WRITE, executable with EXEC (XN clear) by PL0 on a USER page and by
 * PL1 on any page (PXN lives in the level-1 descriptor, which this pmap leaves clear). PL0 never reaches a kernel
 * page.
 */
function expectedArmv7a(e: Entry, access: number): number {
  const a = e.attr;
  if (access & Access.USER && !(a & USER)) return FaultCode.PROTECTION;
  const kinds = Access.READ | (a & WRITE ? Access.WRITE : 0) | (a & EXEC ? Access.EXEC : 0);
  return (access & 7 & ~kinds) === 0 ? e.pa : FaultCode.PROTECTION;
}
