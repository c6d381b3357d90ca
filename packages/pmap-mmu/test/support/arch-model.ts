import { Access, FaultCode, PageAttr } from '@vmlayers/phys';

const { PRESENT, READ, WRITE, EXEC, USER } = PageAttr;

export interface Entry {
  pa: number;
  attr: number;
}

/** What the architecture manual says an access to a page entered with `attr` does. */
export function expected(arch: 'sv39' | 'ia32', e: Entry | undefined, access: number): number {
  if (!e || !(e.attr & PRESENT)) return FaultCode.NOT_MAPPED;
  const a = e.attr;
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

