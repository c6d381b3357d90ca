/*
 * One entry point for every format, so an emulator picks its walker from the guest's mode register
 * (satp.MODE, CR0/CR4/EFER) by name.
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { RiscvWalker } from './riscv.js';
import type { RiscvFormat, RiscvWalkerOptions } from './riscv.js';
import type { WalkFormat } from './types.js';

/**
 * A page-table walker for `format` over `mem`, with its own TLB: a {@link RiscvWalker} for `sv32`/`sv39`/`sv48`.
 * An unknown format or bad options → `VmError('EINVAL')`.
 */
export function createWalker(format: RiscvFormat, mem: PhysicalMemory, options?: RiscvWalkerOptions): RiscvWalker;
export function createWalker(format: WalkFormat, mem: PhysicalMemory, options?: RiscvWalkerOptions): RiscvWalker {
  switch (format) {
    case 'sv32':
    case 'sv39':
    case 'sv48':
      return new RiscvWalker(format, mem, options);
    default:
      throw new VmError('EINVAL', `format must be one of sv32, sv39, sv48, got ${hex(format)}`);
  }
}
