export { Zone } from './zone.js';
export type { ZoneStats } from './zone.js';
export {
  Kmalloc,
  KMALLOC_MIN_SHIFT,
  KMALLOC_MAX_SHIFT,
  KMALLOC_SLOTS,
  ZONE_HEADER_SIZE,
  ZONE_HEADERS,
  KEEP_EMPTY_PER,
} from './kmalloc.js';
export type { KmallocStats, KmallocClassStats } from './kmalloc.js';
export type { KernelMemory } from './kernel-memory.js';
export type { KmallocOptions } from './kmalloc.js';
export { createBufferHeap } from './buffer-heap.js';
export type { BufferHeap, BufferHeapOptions, BufferHeapStats, TypedArrayConstructor } from './buffer-heap.js';
