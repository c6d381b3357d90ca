/**
 * A paging-structure cache (Intel SDM §4.10.3, and the page-walk caches of RISC-V cores): for recently walked
 * regions it remembers the leaf-level table, so a TLB miss reads only the leaf PTE. Direct-mapped on the region
 * number (`vpn >>> indexBits`), typed arrays. Beside each table's address it keeps a `Uint32Array` view of the
 * table's words in `PhysicalMemory` (or null while the table's frame holds no host memory), so the miss reads the
 * PTE and writes A/D with one typed-array access each.
 *
 * It caches non-leaf entries only, so it must be dropped whenever a pointer entry is cleared or rewritten — a freed
 * table, `destroy`, or an `sfence.vma`/CR3 reload (`MmuPmap.flushTlb`) after tables were edited by hand. Adding a
 * pointer where there was none needs nothing: absent entries are never cached. Views are of page-table frames only,
 * which the pmap allocates and frees itself: a freed frame's bytes are dropped from `PhysicalMemory` (its view goes
 * stale), and freeing a table drops this cache in every address space that could hold it, so a stale view is never
 * used. `check()` compares every cached view with the frame's live storage.
 */
export class WalkCache {
  declare readonly size: number;
  /** Region number of each slot, -1 when empty. */
  declare readonly key: Int32Array;
  /** Physical address of the region's leaf table. */
  declare readonly table: Float64Array;
  /** Bits of the pointer entry the format needs at the leaf (ia32: the PDE's RW/US). */
  declare readonly bits: Int32Array;
  /** The leaf table's words in `PhysicalMemory`, or null while its frame holds no host memory. */
  declare readonly words: (Uint32Array | null)[];

  constructor(size: number) {
    this.size = size;
    this.key = new Int32Array(size).fill(-1);
    this.table = new Float64Array(size);
    this.bits = new Int32Array(size);
    this.words = new Array<Uint32Array | null>(size).fill(null);
  }

  fill(key: number, table: number, bits: number, words: Uint32Array | null): void {
    const s = key & (this.size - 1);
    this.key[s] = key;
    this.table[s] = table;
    this.bits[s] = bits;
    this.words[s] = words;
  }

  flush(): void {
    this.key.fill(-1);
    this.words.fill(null);
  }
}
