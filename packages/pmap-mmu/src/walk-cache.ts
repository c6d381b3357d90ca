/**
 * A paging-structure cache (Intel SDM §4.10.3, and the page-walk caches of RISC-V cores): for recently walked
 * regions it remembers the leaf-level table, so a TLB miss reads only the leaf PTE. Direct-mapped on the region
 * number (`vpn >>> indexBits`), typed arrays. It caches non-leaf entries only, so it must be dropped whenever a
 * pointer entry is cleared or rewritten — a freed table, `destroy`, or an `sfence.vma`/CR3 reload
 * (`MmuPmap.flushTlb`) after tables were edited by hand. Adding a pointer where there was none needs nothing:
 * absent entries are never cached.
 */
export class WalkCache {
  declare readonly size: number;
  /** Region number of each slot, -1 when empty. */
  declare readonly key: Float64Array;
  /** Physical address of the region's leaf table. */
  declare readonly table: Float64Array;
  /** Bits of the pointer entry the format needs at the leaf (ia32: the PDE's RW/US). */
  declare readonly bits: Int32Array;

  constructor(size: number) {
    this.size = size;
    this.key = new Float64Array(size).fill(-1);
    this.table = new Float64Array(size);
    this.bits = new Int32Array(size);
  }

  fill(key: number, table: number, bits: number): void {
    const s = key & (this.size - 1);
    this.key[s] = key;
    this.table[s] = table;
    this.bits[s] = bits;
  }

  flush(): void {
    this.key.fill(-1);
  }
}
