import { Access, Prot, VmError, faultErrno, hex } from '@vmlayers/phys';

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/**
 * The protection an access needs, checked in software: write implies read, as on every MMU here; and without
 * execute-protect (ia32) an executable page is readable, since the hardware cannot tell the two apart.
 */
export function allows(prot: number, access: number, execProtect: boolean): boolean {
  let eff = prot & RWX;
  if (eff & Prot.WRITE) eff |= Prot.READ;
  if (!execProtect && eff & Prot.EXEC) eff |= Prot.READ;
  if (eff === 0) return false;
  if (access & ~eff & RWX) return false;
  return (access & Access.USER) === 0 || (prot & Prot.USER) !== 0;
}

/** The `VmError` for a negative `FaultCode` met while accessing `va`. */
export function faultError(code: number, va: number): VmError {
  const errno = faultErrno(code);
  const why = errno === 'EACCES' ? 'is not allowed' : errno === 'ENOMEM' ? 'has no memory to map it' : 'is not mapped';
  return new VmError(errno, `access to va ${hex(va)} ${why}`);
}
