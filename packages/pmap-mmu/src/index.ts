export { sv39 } from './sv39.js';
export { ia32 } from './ia32.js';
export { aarch64, createAarch64 } from './aarch64.js';
export type { Aarch64Options } from './aarch64.js';
export { MmuPmap, TLB_SIZE } from './mmu-pmap.js';
export { Tlb } from './tlb.js';
export type { TlbView } from './tlb.js';
export { LeafBit, dumpTables, leafFlags } from './dump-tables.js';
export type { PteLeaf } from './dump-tables.js';
