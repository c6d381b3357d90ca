/**
 * A direct-mapped software TLB for one address space, in one `Int32Array` (no per-entry objects, no doubles).
 *
 * Slot `vpn & mask` (vpn = virtual page number) caches one page in four adjacent int32s, `entries[4 * slot + …]`
 * (16 bytes, four slots per cache line):
 *
 * | word | what |
 * |---|---|
 * | 0 | the virtual page number, -1 when empty |
 * | 1 | bits 0–15: the set of `Access` codes allowed without a walk, bit `a` for code `a` (0 when empty); bits 16–31: the physical page address above bit 32 (`Math.floor(pa / 2^32)`, 0 below 4 GiB) |
 * | 2 | the physical page address, low 32 bits (as an int32) |
 * | 3 | 0 (padding: a slot is a power of two words) |
 *
 * A hit is therefore `entries[k] === vpn && (entries[k + 1] >>> access) & 1` with `k = (vpn & mask) << 2`, and the
 * physical address `(entries[k + 2] | (va & 4095)) >>> 0` (plus `(entries[k + 1] >>> 16) * 2^32` above 4 GiB; see
 * {@link TlbView}): integer operations only, and a uint32 result below 4 GiB, which V8 keeps in a register as an
 * integer. Writes to a page whose dirty bit is still clear are left out of the allowed set, so the first write
 * takes the slow path and sets D in the table, as hardware does. A page at or above 2^48 (256 TiB) is never
 * cached: every access to it walks.
 *
 * No ASID tag is needed: each address space owns its TLB, the way a core with ASIDs keeps other spaces' entries
 * apart. The array is allocated once; flushes clear slots in place, so a view of it stays valid.
 */
// Fields are `declare`d and set in the constructor, so each is defined once with its final type (a class field
// declared without a value is first defined as undefined).
export class Tlb {
  /** Slots; a power of two. */
  declare readonly size: number;
  /** `size - 1`: page `vpn` lives in slot `vpn & mask`. */
  declare readonly mask: number;
  /** Per slot: virtual page number (-1 = empty), allowed access codes, physical page number, padding. */
  declare readonly entries: Int32Array;

  constructor(size: number) {
    this.size = size;
    this.mask = size - 1;
    this.entries = new Int32Array(4 * size);
    for (let s = 0; s < size; s++) this.entries[4 * s] = -1;
  }

  /**
   * Caches page `vpn` → physical page `pa` with allowed-access mask `perm`. Returns false (caching nothing) when
   * the frame number of `pa` does not fit an int32 slot.
   */
  fill(vpn: number, pa: number, perm: number): boolean {
    const high = pa < 4294967296 ? 0 : Math.floor(pa / 4294967296);
    if (high > 0xffff) return false;
    const e = this.entries;
    const i = (vpn & this.mask) << 2;
    e[i] = vpn;
    e[i + 1] = perm | (high << 16);
    // An Int32Array store keeps the low 32 bits (ToInt32), exactly the page address below 4 GiB.
    e[i + 2] = pa;
    return true;
  }

  /** The virtual address of the page in slot `s`, or -1. */
  page(s: number): number {
    const vpn = this.entries[4 * s];
    return vpn < 0 ? -1 : vpn * 4096;
  }

  /** The allowed-access mask of slot `s`. */
  perm(s: number): number {
    return this.entries[4 * s + 1] & 0xffff;
  }

  /** The physical address cached for page `va` (whose slot must hold it). */
  physical(va: number): number {
    const i = 4 * (Math.floor(va / 4096) & this.mask);
    return (this.entries[i + 1] >>> 16) * 2 ** 32 + (this.entries[i + 2] >>> 0);
  }

  /** Drops the translation of page `vpn` if cached (`sfence.vma va` / `invlpg`). */
  invalidatePage(vpn: number): void {
    const e = this.entries;
    const i = (vpn & this.mask) << 2;
    if (e[i] === vpn) {
      e[i] = -1;
      e[i + 1] = 0;
    }
  }

  /** Drops every translation of pages in `[vpnStart, vpnEnd)`. */
  invalidateRange(vpnStart: number, vpnEnd: number): void {
    if (vpnEnd - vpnStart <= this.size) {
      for (let v = vpnStart; v < vpnEnd; v++) this.invalidatePage(v);
      return;
    }
    const e = this.entries;
    for (let i = 0; i < e.length; i += 4) {
      if (e[i] >= vpnStart && e[i] < vpnEnd) {
        e[i] = -1;
        e[i + 1] = 0;
      }
    }
  }

  /** Drops everything. */
  flush(): void {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 4) {
      e[i] = -1;
      e[i + 1] = 0;
    }
  }

  /** Number of slots holding a translation. */
  occupied(): number {
    let n = 0;
    for (let i = 0; i < this.entries.length; i += 4) if (this.entries[i] >= 0) n++;
    return n;
  }
}

/**
 * The exported fast path: a TLB's own arrays, for an emulator that inlines the hit test in its memory functions
 * (as v86's read/write functions test `tlb_data` before calling `translate_address`). `MmuPmap.tlbView()` returns
 * it. For a `va` that is an integer in the format's range (`[0, 2^32)` ia32, `[0, 2^38)` Sv39) and an `Access`
 * code 1–15:
 *
 * ```ts
 * const { entries, mask } = pmap.tlbView();       // once
 * // per access:
 * const k = ((va >>> 12) & mask) << 2;            // the slot of page va >>> 12 (low 32 bits of va: any width)
 * const info = entries[k + 1];
 * const pa =
 *   entries[k] === Math.floor(va / 4096) && ((info >>> access) & 1) !== 0 && info >>> 16 === 0
 *     ? (entries[k + 2] | (va & 4095)) >>> 0       // hit below 4 GiB: exactly what translate(va, access) returns
 *     : pmap.translate(va, access);                // miss, fault, or a frame above 4 GiB: the pmap answers
 * ```
 *
 * (ia32 may compare `entries[k] === va >>> 12`; a frame above 4 GiB, possible on Sv39 only, has its address bits
 * 32–47 in `info >>> 16`: `(info >>> 16) * 2 ** 32 + ((entries[k + 2] | (va & 4095)) >>> 0)`.)
 *
 * Anything else (a fraction, a negative number, a non-number, a code outside 1–15) must go to `translate`, which
 * checks it. The arrays never change for the life of the address space: every invalidation clears slots in place
 * (tag -1, no access allowed), `destroy` clears them all. Hits served through the view are not counted in
 * `stats().tlbHits`.
 */
export interface TlbView {
  /**
   * Four int32s per slot: virtual page number (-1 = empty); allowed access codes (bit `a` for code `a`) with the
   * page's physical address bits 32–47 above bit 16; the page's physical address, low 32 bits; 0.
   */
  readonly entries: Int32Array;
  /** Slots - 1: slot of page `vpn` is `vpn & mask`, its first word `(vpn & mask) << 2`. */
  readonly mask: number;
  /** log2 of the page size (12). */
  readonly pageShift: 12;
}
