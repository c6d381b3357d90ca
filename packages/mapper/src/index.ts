export { createKernelMap } from './kernel-map.js';
export type { KernelMap, KernelMapOptions } from './kernel-map.js';
export type { MemoryMap, VmMap } from './vm-map.js';
export type { AddressSpace } from './address-space.js';
export type { Backing, BackingPage } from './backing.js';
export type { MapEntry, MmapOptions, EntryPoolInfo } from './map-entry.js';
export { ZeroFillBacking } from './zero-fill.js';
export type { ZeroFillOptions } from './zero-fill.js';
export { formatMaps, formatPerms } from './format.js';
