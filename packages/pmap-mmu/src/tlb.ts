/**
 * A direct-mapped software TLB for one address space, in one typed array (no per-entry objects).
 *
 * Slot `(va >>> 12) & mask` caches one page in four adjacent numbers (`entries[4 * slot + …]`, one cache line
 * for two slots): the page's virtual address (-1 when empty), the set of `Access` codes allowed without a walk
 * (bit `a` for code `a`), and the distance to the physical page (`pa - va`, so a hit is one addition, as v86's
 * `tlb_data`); the fourth is padding. Writes to a page whose dirty bit is still clear are left out of the allowed
 * set, so the first write takes the slow path and sets D in the table, as hardware does.
 *
 * No ASID tag is needed: each address space owns its TLB, the way a core with ASIDs keeps other spaces' entries
 * apart.
 */
// Fields are `declare`d and set in the constructor, so each is defined once with its final type (a class field
// declared without a value is first defined as undefined).
export class Tlb {
  /** Slots; a power of two. */
  declare readonly size: number;
  declare readonly mask: number;
  /** Per slot: page address (-1 = empty), allowed access codes, physical minus virtual address, padding. */
  declare readonly entries: Float64Array;

  constructor(size: number) {
    this.size = size;
    this.mask = size - 1;
    this.entries = new Float64Array(4 * size);
    for (let s = 0; s < size; s++) this.entries[4 * s] = -1;
  }

  /** Caches page `vpn` (virtual page number) → physical page `pa` with allowed-access mask `perm`. */
  fill(vpn: number, pa: number, perm: number): void {
    const e = this.entries;
    const i = 4 * (vpn & this.mask);
    const va = vpn * 4096;
    e[i] = va;
    e[i + 1] = perm;
    e[i + 2] = pa - va;
  }

  /** The virtual address of the page in slot `s`, or -1. */
  page(s: number): number {
    return this.entries[4 * s];
  }

  /** The allowed-access mask of slot `s`. */
  perm(s: number): number {
    return this.entries[4 * s + 1];
  }

  /** The physical address cached for page `va` (whose slot must hold it). */
  physical(va: number): number {
    return va + this.entries[4 * ((va / 4096) & this.mask) + 2];
  }

  /** Drops the translation of page `vpn` if cached (`sfence.vma va` / `invlpg`). */
  invalidatePage(vpn: number): void {
    const i = 4 * (vpn & this.mask);
    if (this.entries[i] === vpn * 4096) this.entries[i] = -1;
  }

  /** Drops every translation of pages in `[vpnStart, vpnEnd)`. */
  invalidateRange(vpnStart: number, vpnEnd: number): void {
    if (vpnEnd - vpnStart <= this.size) {
      for (let v = vpnStart; v < vpnEnd; v++) this.invalidatePage(v);
      return;
    }
    const e = this.entries;
    const lo = vpnStart * 4096;
    const hi = vpnEnd * 4096;
    for (let i = 0; i < e.length; i += 4) if (e[i] >= lo && e[i] < hi) e[i] = -1;
  }

  /** Drops everything. */
  flush(): void {
    for (let i = 0; i < this.entries.length; i += 4) this.entries[i] = -1;
  }

  /** Number of slots holding a translation. */
  occupied(): number {
    let n = 0;
    for (let i = 0; i < this.entries.length; i += 4) if (this.entries[i] >= 0) n++;
    return n;
  }
}
