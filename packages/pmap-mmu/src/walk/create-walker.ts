/*
 * One entry point for every format, so an emulator picks its walker from the guest's mode register
 * (satp.MODE, CR0/CR4/EFER, SCTLR/TTBCR.EAE, the execution state) by name.
 */
import { VmError, hex } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';
import { Aarch64Walker } from './aarch64.js';
import type { Aarch64WalkerOptions } from './aarch64.js';
import { Armv7aWalker } from './armv7a.js';
import type { Armv7aWalkerOptions } from './armv7a.js';
import { RiscvWalker } from './riscv.js';
import type { RiscvFormat, RiscvWalkerOptions } from './riscv.js';
import type { WalkFormat } from './types.js';
import { X86Walker } from './x86.js';
import type { X86Format, X86WalkerOptions } from './x86.js';

/** The options of any walker (see {@link createWalker}). */
export type WalkerOptions = RiscvWalkerOptions | X86WalkerOptions | Armv7aWalkerOptions | Aarch64WalkerOptions;

/** Any walker {@link createWalker} makes. */
export type AnyWalker = RiscvWalker | X86Walker | Armv7aWalker | Aarch64Walker;

/**
 * A page-table walker for `format` over `mem`, with its own TLB: a {@link RiscvWalker} for `sv32`/`sv39`/`sv48`
 * (options: {@link RiscvWalkerOptions}), an {@link X86Walker} for `ia32`/`pae`/`x86-64` (options:
 * {@link X86WalkerOptions}), an {@link Armv7aWalker} for `armv7a-short` (options: {@link Armv7aWalkerOptions}), an
 * {@link Aarch64Walker} for `aarch64` (options: {@link Aarch64WalkerOptions}). An unknown format or bad options →
 * `VmError('EINVAL')`.
 */
export function createWalker(format: RiscvFormat, mem: PhysicalMemory, options?: RiscvWalkerOptions): RiscvWalker;
/** An x86 walker; see the first overload. */
export function createWalker(format: X86Format, mem: PhysicalMemory, options?: X86WalkerOptions): X86Walker;
/** An ARMv7-A short-descriptor walker; see the first overload. */
export function createWalker(format: 'armv7a-short', mem: PhysicalMemory, options?: Armv7aWalkerOptions): Armv7aWalker;
/** An AArch64 (VMSAv8-64, 4 KiB granule) walker; see the first overload. */
export function createWalker(format: 'aarch64', mem: PhysicalMemory, options?: Aarch64WalkerOptions): Aarch64Walker;
/** Any walker, for a format chosen at run time; see the first overload. */
export function createWalker(format: WalkFormat, mem: PhysicalMemory, options?: WalkerOptions): AnyWalker;
export function createWalker(format: WalkFormat, mem: PhysicalMemory, options?: WalkerOptions): AnyWalker {
  switch (format) {
    case 'sv32':
    case 'sv39':
    case 'sv48':
      return new RiscvWalker(format, mem, options as RiscvWalkerOptions | undefined);
    case 'ia32':
    case 'pae':
    case 'x86-64':
      return new X86Walker(format, mem, options as X86WalkerOptions | undefined);
    case 'armv7a-short':
      return new Armv7aWalker(mem, options as Armv7aWalkerOptions | undefined);
    case 'aarch64':
      return new Aarch64Walker(mem, options as Aarch64WalkerOptions | undefined);
    default:
      throw new VmError('EINVAL', `format must be one of sv32, sv39, sv48, ia32, pae, x86-64, armv7a-short, aarch64, got ${hex(format)}`);
  }
}
