import type { PhysicalMemory } from '@vmlayers/phys';

/*
 * Page-table frames read as `Uint32Array` views of `PhysicalMemory`'s own storage (`PhysicalMemory.frameWords`), so
 * a TLB miss reads a PTE with one typed-array load and sets A/D with one store, instead of two `read32` calls
 * through the bank and chunk lookup. A frame that holds no host memory has no view (`null`: it reads as zeros),
 * and a view is stale once its frame is freed: the walk cache drops the views of every table it frees.
 */

/**
 * The words of the page-aligned RAM frame at `pa` as a live view, or `null` when the frame holds no host memory
 * (reads as zeros) or the host is big-endian. Never allocates host memory for the frame.
 */
export function frameWords(mem: PhysicalMemory, pa: number): Uint32Array | null {
  return mem.frameWords(pa);
}

/** True when `frameWords` can hand out views on this host (little-endian), for reports. */
export function frameViewsAvailable(_mem: PhysicalMemory): boolean {
  return new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
}
