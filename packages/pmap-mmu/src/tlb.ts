import { accessMask } from './internal/access-mask.js';

/** Word 0 of a slot whose page number (at or above 2^31) lives in `Tlb.big`. */
export const BIG_TAG = -2;

/**
 * A direct-mapped software TLB for one address space, in one `Int32Array` (no per-entry objects, no doubles).
 *
 * Slot `vpn & mask` (vpn = virtual page number) caches one page in four adjacent int32s, `entries[4 * slot + …]`
 * (16 bytes, four slots per cache line):
 *
 * | word | what |
 * |---|---|
 * | 0 | the virtual page number, -1 when empty |
 * | 1 | the hit word: `(pa & -4096) \| kinds` — the physical page address (bits 12–31), and in `kinds` the access kinds (`Access.READ` 1, `WRITE` 2, `EXEC` 4) allowed in supervisor mode at bits 0–2 and in user mode at bits 8–10; 0 when empty and for a frame at or above 4 GiB (never a hit in this form) |
 * | 2 | a frame at or above 4 GiB (word 1 is 0): bits 0–15, the set of `Access` codes allowed without a walk, bit `a` for code `a`; bits 16–31, the physical page address above bit 32 (`Math.floor(pa / 2^32)`). 0 when empty; not read (and not written) while word 1 is not 0 |
 * | 3 | a frame at or above 4 GiB: the physical page address, low 32 bits (as an int32); not read while word 1 is not 0 |
 *
 * A hit is therefore two loads from one slot: `entries[k] === vpn && (w & need) === need` with
 * `k = (vpn & mask) << 2`, `w = entries[k + 1]` and `need = (access & 7) << (access & 8)` (the kinds of access code
 * `access` in its mode's byte), and the physical address `((w & -4096) | (va & 4095)) >>> 0`: integer operations
 * only, and a uint32 result, which V8 keeps in a register as an integer. A frame below 4 GiB is cached in words 0–1
 * alone (two stores on a miss); words 2–3 hold a frame from 4 GiB up to 2^48, for the slow path. Writes to a page
 * whose dirty bit is still clear are left out, so the first write takes the slow path and sets D in the table, as
 * hardware does. A page at or above 2^48 (256 TiB) is never cached: every access to it walks.
 *
 * A page number at or above 2^31 (AArch64 addresses from 8 TiB up, and its kernel half) does not fit word 0: such
 * a slot holds the tag -2 (never a page number, so no hit test matches it) and its page number in `big`; only the
 * pmap's slow path serves it.
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
  /** Per slot: virtual page number (-1 = empty), hit word, allowed access codes and frame bits 32–47, frame bits 0–31. */
  declare readonly entries: Int32Array;
  /** Per slot: the page number of a slot tagged -2 (a page number at or above 2^31). */
  declare readonly big: Float64Array;

  constructor(size: number) {
    this.size = size;
    this.mask = size - 1;
    this.entries = new Int32Array(4 * size);
    this.big = new Float64Array(size);
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
    if (vpn > 0x7fff_ffff) {
      e[i] = BIG_TAG;
      this.big[i >>> 2] = vpn;
    } else e[i] = vpn;
    const w = high === 0 ? hitWord(pa, perm) : 0;
    e[i + 1] = w;
    if (w !== 0) return true;
    // Above 4 GiB (or frame 0 with no access kind: a hit word of 0), in words 2–3.
    e[i + 2] = perm | (high << 16);
    // An Int32Array store keeps the low 32 bits (ToInt32) of the page address.
    e[i + 3] = pa;
    return true;
  }

  /** The virtual address of the page in slot `s`, or -1. */
  page(s: number): number {
    const vpn = this.tag(s);
    return vpn < 0 ? -1 : vpn * 4096;
  }

  /** The page number cached in slot `s`, or -1. */
  tag(s: number): number {
    const t = this.entries[4 * s];
    return t === BIG_TAG ? this.big[s] : t;
  }

  /** The allowed-access mask of slot `s` (from the hit word's kinds below 4 GiB, word 2 above; 0 when empty). */
  perm(s: number): number {
    const w = this.entries[4 * s + 1];
    return w !== 0 ? accessMask(w & 7, (w >>> 8) & 7) : this.entries[4 * s + 2] & 0xffff;
  }

  /** The hit word of slot `s` (word 1: 0 when empty or when its frame lies at or above 4 GiB). */
  word(s: number): number {
    return this.entries[4 * s + 1];
  }

  /** The physical address cached for page `va` (whose slot must hold it). */
  physical(va: number): number {
    const i = 4 * (Math.floor(va / 4096) & this.mask);
    const w = this.entries[i + 1];
    if (w !== 0) return (w & -4096) >>> 0;
    return (this.entries[i + 2] >>> 16) * 2 ** 32 + (this.entries[i + 3] >>> 0);
  }

  /** Drops the translation of page `vpn` if cached (`sfence.vma va` / `invlpg`). */
  invalidatePage(vpn: number): void {
    const e = this.entries;
    const i = (vpn & this.mask) << 2;
    if (e[i] === vpn || (e[i] === BIG_TAG && this.big[i >>> 2] === vpn)) {
      e[i] = -1;
      e[i + 1] = 0;
      e[i + 2] = 0;
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
      const t = e[i] === BIG_TAG ? this.big[i >>> 2] : e[i];
      if (t >= vpnStart && t < vpnEnd) {
        e[i] = -1;
        e[i + 1] = 0;
        e[i + 2] = 0;
      }
    }
  }

  /** Drops everything. */
  flush(): void {
    const e = this.entries;
    for (let i = 0; i < e.length; i += 4) {
      e[i] = -1;
      e[i + 1] = 0;
      e[i + 2] = 0;
    }
  }

  /** Number of slots holding a translation. */
  occupied(): number {
    let n = 0;
    for (let i = 0; i < this.entries.length; i += 4) if (this.entries[i] >= 0 || this.entries[i] === BIG_TAG) n++;
    return n;
  }
}

/**
 * The hit word (slot word 1) of a page mapped to the frame at `pa` (below 4 GiB) with allowed-access mask `perm`:
 * the frame's address in bits 12–31, the supervisor kinds (codes 1, 2, 4 of `perm`) at bits 0–2 and the
 * user kinds (codes 9, 10, 12) at bits 8–10. As `perm` holds every code whose kinds are all allowed, a code is
 * allowed exactly when all its kind bits are set here. The miss path writes the same expression out.
 */
export function hitWord(pa: number, perm: number): number {
  return (pa & -4096) | ((perm >>> 1) & 0x303) | ((perm >>> 2) & 0x404);
}

/**
 * The exported fast path: a TLB's own arrays, for an emulator that inlines the hit test in its memory functions
 * (as v86's read/write functions test `tlb_data` before calling `translate_address`). `MmuPmap.tlbView()` returns
 * it. For a `va` that is an integer in the format's range (`[0, 2^32)` ia32, `[0, 2^38)` Sv39) and an `Access`
 * code 1–15:
 *
 * ```ts
 * const { entries, mask } = pmap.tlbView();       // once
 * const need = (access & 7) << (access & 8);      // once per access code: its kinds in its mode's byte
 * // per access: two loads from one slot
 * const k = ((va >>> 12) & mask) << 2;            // the slot of page va >>> 12 (low 32 bits of va: any width)
 * const w = entries[k + 1];
 * const pa =
 *   entries[k] === Math.floor(va / 4096) && (w & need) === need
 *     ? ((w & -4096) | (va & 4095)) >>> 0          // hit: exactly what translate(va, access) returns
 *     : pmap.translate(va, access);                // miss, fault, or a frame above 4 GiB: the pmap answers
 * ```
 *
 * (ia32 may compare `entries[k] === va >>> 12`.) The hit word `w` holds the frame's address in bits 12–31 and,
 * below them, the access kinds allowed in supervisor mode at bits 0–2 and in user mode at bits 8–10: an access is
 * allowed when all its kinds are, so one AND and one compare test any code, and `need` folds to a constant where
 * the code is one. A frame at or above 4 GiB (possible on Sv39 only) has no kinds in
 * `w`: `translate` serves it from the same slot.
 *
 * Anything else (a fraction, a negative number, a non-number, a code outside 1–15) must go to `translate`, which
 * checks it. The arrays never change for the life of the address space: every invalidation clears slots in place
 * (tag -1, hit word 0), `destroy` clears them all. Hits served through the view are not counted in
 * `stats().tlbHits`.
 */
export interface TlbView {
  /**
   * Four int32s per slot: virtual page number (-1 = empty); the hit word `(pa & -4096) | kinds`
   * (supervisor kinds at bits 0–2, user kinds at bits 8–10; 0 when empty or for a frame above 4 GiB); and, for
   * the pmap's own slow path, a frame above 4 GiB: its allowed access codes (bit `a` for code `a`) with its address
   * bits 32–47 above bit 16, and its address, low 32 bits (stale while the hit word is not 0).
   */
  readonly entries: Int32Array;
  /** Slots - 1: slot of page `vpn` is `vpn & mask`, its first word `(vpn & mask) << 2`. */
  readonly mask: number;
  /** log2 of the page size (12). */
  readonly pageShift: 12;
}
