/**
 * A direct-mapped software TLB for one address space, in typed arrays (no per-entry objects). Slot `vpn & mask`
 * holds the page's tag (its virtual page number, -1 when empty), the physical address of the page and the mask of
 * `Access` codes allowed without a walk (see `internal/access-mask.ts`). Writes to a page whose dirty bit is still
 * clear are left out of the mask, so the first write takes the slow path and sets D in the table, as hardware does.
 *
 * No ASID tag is needed: each address space owns its TLB, the way a core with ASIDs keeps other spaces' entries
 * apart.
 */
export class Tlb {
  /** Slots; a power of two. */
  readonly size: number;
  readonly mask: number;
  /** Virtual page number cached in each slot, -1 when empty. */
  readonly tag: Int32Array;
  /** Physical address of the cached page. */
  readonly base: Float64Array;
  /** Allowed access codes, one bit per code. */
  readonly perm: Int32Array;

  constructor(size: number) {
    this.size = size;
    this.mask = size - 1;
    this.tag = new Int32Array(size).fill(-1);
    this.base = new Float64Array(size);
    this.perm = new Int32Array(size);
  }

  fill(vpn: number, pa: number, perm: number): void {
    const s = vpn & this.mask;
    this.tag[s] = vpn;
    this.base[s] = pa;
    this.perm[s] = perm;
  }

  /** Drops the translation of page `vpn` if cached (`sfence.vma va` / `invlpg`). */
  invalidatePage(vpn: number): void {
    const s = vpn & this.mask;
    if (this.tag[s] === vpn) this.tag[s] = -1;
  }

  /** Drops every translation of pages in `[vpnStart, vpnEnd)`. */
  invalidateRange(vpnStart: number, vpnEnd: number): void {
    if (vpnEnd - vpnStart <= this.size) {
      for (let v = vpnStart; v < vpnEnd; v++) this.invalidatePage(v);
      return;
    }
    const tag = this.tag;
    for (let s = 0; s < this.size; s++) if (tag[s] >= vpnStart && tag[s] < vpnEnd) tag[s] = -1;
  }

  /** Drops everything. */
  flush(): void {
    this.tag.fill(-1);
  }

  /** Number of slots holding a translation. */
  occupied(): number {
    let n = 0;
    for (let s = 0; s < this.size; s++) if (this.tag[s] >= 0) n++;
    return n;
  }
}
