/**
 * A direct-mapped software TLB for one address space, in typed arrays (no per-entry objects).
 *
 * Slot `(va >>> 12) & mask` caches one page: its virtual address (`page`, -1 when empty), the set of `Access`
 * codes allowed without a walk (`perm`, bit `a` for code `a`) and the distance to the physical page
 * (`delta = pa - va`, so a hit is one addition, as v86's `tlb_data`). For the hit path the permission is folded
 * into the tag: `tags[slot * 16 + code]` holds the page's address only where access code `code` is allowed, so one
 * load and one compare check the page and the rights together. A slot's 16 tags are adjacent (two cache lines), so
 * a fill touches little memory. Writes to a page whose dirty bit is still clear are left out, so the first write
 * takes the slow path and sets D in the table, as hardware does.
 *
 * No ASID tag is needed: each address space owns its TLB, the way a core with ASIDs keeps other spaces' entries
 * apart.
 */
// Fields are `declare`d and set in the constructor: a class field declared without a value would first be
// defined as undefined, and V8 would then stop trusting its type on the hit path.
export class Tlb {
  /** Slots; a power of two. */
  declare readonly size: number;
  declare readonly mask: number;
  /** Virtual address of the page cached in each slot, -1 when empty. */
  declare readonly page: Float64Array;
  /** Allowed access codes of the cached page, one bit per code. */
  declare readonly perm: Int32Array;
  /** Per slot, 16 tags (one per access code): the page's address where that code is allowed, else -1. */
  declare readonly tags: Float64Array;
  /** Physical minus virtual address of the cached page. */
  declare readonly delta: Float64Array;

  constructor(size: number) {
    this.size = size;
    this.mask = size - 1;
    this.page = new Float64Array(size).fill(-1);
    this.perm = new Int32Array(size);
    this.tags = new Float64Array(16 * size).fill(-1);
    this.delta = new Float64Array(size);
  }

  /** Caches page `vpn` (virtual page number) → physical page `pa` with allowed-access mask `perm`. */
  fill(vpn: number, pa: number, perm: number): void {
    const s = vpn & this.mask;
    const va = vpn * 4096;
    this.page[s] = va;
    this.perm[s] = perm;
    this.delta[s] = pa - va;
    const tags = this.tags;
    const t = s * 16;
    // Unrolled: a miss fills a slot every time, and a loop here costs as much as a PTE read.
    tags[t + 0] = perm & 0x1 ? va : -1;
    tags[t + 1] = perm & 0x2 ? va : -1;
    tags[t + 2] = perm & 0x4 ? va : -1;
    tags[t + 3] = perm & 0x8 ? va : -1;
    tags[t + 4] = perm & 0x10 ? va : -1;
    tags[t + 5] = perm & 0x20 ? va : -1;
    tags[t + 6] = perm & 0x40 ? va : -1;
    tags[t + 7] = perm & 0x80 ? va : -1;
    tags[t + 8] = perm & 0x100 ? va : -1;
    tags[t + 9] = perm & 0x200 ? va : -1;
    tags[t + 10] = perm & 0x400 ? va : -1;
    tags[t + 11] = perm & 0x800 ? va : -1;
    tags[t + 12] = perm & 0x1000 ? va : -1;
    tags[t + 13] = perm & 0x2000 ? va : -1;
    tags[t + 14] = perm & 0x4000 ? va : -1;
    tags[t + 15] = perm & 0x8000 ? va : -1;
  }

  /** The physical address cached for page `va` (whose slot must hold it). */
  physical(va: number): number {
    return va + this.delta[(va / 4096) & this.mask];
  }

  /** Drops the translation of page `vpn` if cached (`sfence.vma va` / `invlpg`). */
  invalidatePage(vpn: number): void {
    const s = vpn & this.mask;
    if (this.page[s] === vpn * 4096) this.clear(s);
  }

  /** Drops every translation of pages in `[vpnStart, vpnEnd)`. */
  invalidateRange(vpnStart: number, vpnEnd: number): void {
    if (vpnEnd - vpnStart <= this.size) {
      for (let v = vpnStart; v < vpnEnd; v++) this.invalidatePage(v);
      return;
    }
    const lo = vpnStart * 4096;
    const hi = vpnEnd * 4096;
    for (let s = 0; s < this.size; s++) if (this.page[s] >= lo && this.page[s] < hi) this.clear(s);
  }

  /** Drops everything. */
  flush(): void {
    this.page.fill(-1);
    this.tags.fill(-1);
  }

  /** Number of slots holding a translation. */
  occupied(): number {
    let n = 0;
    for (let s = 0; s < this.size; s++) if (this.page[s] >= 0) n++;
    return n;
  }

  private clear(s: number): void {
    this.page[s] = -1;
    this.tags.fill(-1, s * 16, s * 16 + 16);
  }
}
