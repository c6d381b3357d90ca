import { Access, FaultCode, Prot, VmError } from '@vmlayers/phys';
import { hex } from './validate.js';

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/** The protection an access needs, checked in software: write implies read, as on every MMU here. */
export function allows(prot: number, access: number): boolean {
  let eff = prot & RWX;
  if (eff & Prot.WRITE) eff |= Prot.READ;
  if (eff === 0) return false;
  if (access & ~eff & RWX) return false;
  return (access & Access.USER) === 0 || (prot & Prot.USER) !== 0;
}

/** The `VmError` for a negative `FaultCode` met while accessing `va`. */
export function faultError(code: number, va: number): VmError {
  switch (code) {
    case FaultCode.PROTECTION:
      return new VmError('EACCES', `access to va ${hex(va)} is not allowed`);
    case FaultCode.NO_MEMORY:
      return new VmError('ENOMEM', `no memory to map va ${hex(va)}`);
    default:
      return new VmError('EFAULT', `va ${hex(va)} is not mapped`);
  }
}
