// The page-table walkers' public names, gathered for `src/index.ts` to re-export (`export * from './walk/index.js'`).
export { createWalker } from './create-walker.js';
export type { AnyWalker, WalkerOptions } from './create-walker.js';
export { RiscvWalker } from './riscv.js';
export type { RiscvFormat, RiscvWalkerOptions } from './riscv.js';
export { X86Walker } from './x86.js';
export type { LoadCr3Options, X86Format, X86WalkerOptions } from './x86.js';
export { Armv7aWalker } from './armv7a.js';
export type { Armv7aWalkerOptions } from './armv7a.js';
export { Aarch64Walker } from './aarch64.js';
export type { Aarch64WalkerOptions } from './aarch64.js';
export { WalkTlb, WALK_TLB_SIZE, SLOT_WORDS, GLOBAL_KEY, WIDE_KEY, slotIndex, tlbKey } from './tlb.js';
export { WalkerBase } from './walker-base.js';
export { WalkFault, WALK_FORMATS } from './types.js';
export type { PageWalker, TranslateOptions, WalkFaultKind, WalkFormat, WalkerStats } from './types.js';
