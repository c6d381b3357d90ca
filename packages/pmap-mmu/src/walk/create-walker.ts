/*
 * One entry point for every format, so an emulator picks its walker from the guest's mode register
 * (satp.MODE, CR0/CR4/EFER) by name.
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { RiscvWalker } from './riscv.js';
import type { RiscvFormat, RiscvWalkerOptions } from './riscv.js';
import type { WalkFormat } from './types.js';
import { X86Walker } from './x86.js';
import type { X86Format, X86WalkerOptions } from './x86.js';

/**
 * A page-table walker for `format` over `mem`, with its own TLB: a {@link RiscvWalker} for `sv32`/`sv39`/`sv48`
 * (options: {@link RiscvWalkerOptions}), an {@link X86Walker} for `ia32`/`pae`/`x86-64` (options:
 * {@link X86WalkerOptions}). An unknown format or bad options → `VmError('EINVAL')`.
 */
export function createWalker(format: RiscvFormat, mem: PhysicalMemory, options?: RiscvWalkerOptions): RiscvWalker;
/** An x86 walker; see the first overload. */
export function createWalker(format: X86Format, mem: PhysicalMemory, options?: X86WalkerOptions): X86Walker;
/** Any walker, for a format chosen at run time; see the first overload. */
export function createWalker(format: WalkFormat, mem: PhysicalMemory, options?: RiscvWalkerOptions | X86WalkerOptions): RiscvWalker | X86Walker;
export function createWalker(format: WalkFormat, mem: PhysicalMemory, options?: RiscvWalkerOptions | X86WalkerOptions): RiscvWalker | X86Walker {
  switch (format) {
    case 'sv32':
    case 'sv39':
    case 'sv48':
      return new RiscvWalker(format, mem, options as RiscvWalkerOptions | undefined);
    case 'ia32':
    case 'pae':
    case 'x86-64':
      return new X86Walker(format, mem, options as X86WalkerOptions | undefined);
    default:
      throw new VmError('EINVAL', `format must be one of sv32, sv39, sv48, ia32, pae, x86-64, got ${hex(format)}`);
  }
}
