/*
 * The TLB of a walker: direct-mapped, tagged with the ASID (RISC-V) or PCID (x86), in one Int32Array.
 *
 * The slot of a page mixes its ASID into the index (`slotIndex`), so processes that use the same addresses (every
 * one has its text at the same place) keep their entries side by side instead of evicting each other on every
 * switch, which is what the tag is for. A global entry sits in the slot of the ASID it was filled under; a lookup
 * under another ASID misses it and fills a copy in its own slot, which is correct (a TLB may hold a translation
 * twice as long as both are the same) and costs one walk.
 *
 * Superpages are cached as 4 KiB fragments — the slot of the page that was touched holds the superpage's frame plus
 * that page's offset, and the size of the superpage it came from. The manuals let a TLB cache a superpage in any
 * granularity it likes as long as a flush by address removes every cached piece of the page that address lies in.
 *
 * A flush by address therefore scans every slot (the entries of the page may sit under any ASID's index, and
 * fragments of a superpage around it in any slot): 256 slots are a few hundred nanoseconds, against a walk per
 * access that the hit path saves.
 */
import { VmError, hex, isPowerOfTwo } from '@vmlayers/phys';

/** Int32 words per slot (a power of two, so the slot of a page is `(vpn & mask) << 3`). */
export const SLOT_WORDS = 8;
/** Default slot count. */
export const WALK_TLB_SIZE = 256;

/**
 * The key word (slot word 1) of a global entry: bits 0–3 the page number's bits 32–35, bit 20 this marker instead
 * of an ASID (ASIDs are below 2^16, so `asid << 4` never reaches it). A global entry matches every ASID.
 */
export const GLOBAL_KEY = 0x10_0000;
/**
 * Key-word bit 21: the page number's bits 32–36 lie outside [-8, 8), so the nibble in bits 0–3 is off by 16 (see
 * {@link tlbKey}). Only AArch64's two 48-bit halves (page numbers in [-2^36, 2^36)) need it; the other formats'
 * page numbers fit 36 signed bits and never set it, so their hit tests compare the nibble alone.
 */
export const WIDE_KEY = 0x20_0000;
/** The key word of an empty slot: no computed key is negative. */
const EMPTY = -1;

/**
 * One walker's TLB. Slot `s` (see {@link slotIndex}) holds eight int32 words from `8 s`:
 * 0. the page number's low 32 bits (`vpn | 0`);
 * 1. the key: the page number's bits 32–35 (a sign-extended nibble; 0 for 32-bit formats) in bits 0–3, and the ASID
 *    in bits 4–19 — or {@link GLOBAL_KEY} instead of the ASID for a global entry — and {@link WIDE_KEY} for a page
 *    number whose bits 32 and up lie outside [-8, 8) (AArch64); or -1 when the slot is empty;
 * 2. the allowed accesses: for each privilege context `c` (a small number the walker family defines from
 *    user/SUM/MXR), the READ/WRITE/EXEC kinds allowed at bits `3c … 3c+2`; WRITE is left out while the leaf's D bit
 *    is clear, so the first store walks (and sets D, or faults under Svade);
 * 3. the frame's physical address, low 32 bits (page-aligned);
 * 4. the frame's physical address divided by 2^32 (0 below 4 GiB);
 * 5. log2 of the size of the page the entry came from (12 for a 4 KiB page, 21 for a 2 MiB superpage, …);
 * 6–7. the format's own: ARMv7-A keeps the entry's domain × 2 in word 6 and the permission word a Manager domain
 *    gives in word 7 (its hit test picks word 2 or 7 by the DACR it is called with); unused by the other formats
 *    (they keep a slot a power of two long).
 */
export class WalkTlb {
  /** The slots (see the class description). Read by the walkers' hit paths directly. */
  readonly entries: Int32Array;
  /** Slot count − 1: the slot of page `vpn` is `vpn & mask`. */
  readonly mask: number;

  /** A TLB of `slots` slots (a power of two, 1 … 2^16); anything else → `VmError('EINVAL')`. */
  constructor(slots: number = WALK_TLB_SIZE) {
    if (typeof slots !== 'number' || !isPowerOfTwo(slots) || slots > 65536) {
      throw new VmError('EINVAL', `tlbSize must be a power of two from 1 to 65536, got ${hex(slots)}`);
    }
    this.entries = new Int32Array(slots * SLOT_WORDS).fill(EMPTY);
    this.mask = slots - 1;
  }

  /**
   * Caches a translation in the slot of its page under `asid` (whatever it held before). `vpnLo` is the page
   * number's low 32 bits, `key` the key word ({@link tlbKey}), `pa` the physical address of the 4 KiB page (below 2^53), `shift` the size of the page
   * it belongs to.
   */
  fill(vpnLo: number, asid: number, key: number, perm: number, pa: number, shift: number): void {
    const k = (slotIndex(vpnLo, asid) & this.mask) << 3;
    const e = this.entries;
    e[k] = vpnLo;
    e[k + 1] = key;
    e[k + 2] = perm;
    e[k + 3] = pa % 4294967296 | 0;
    e[k + 4] = Math.floor(pa / 4294967296);
    e[k + 5] = shift;
  }

  /**
   * Drops cached translations. `vpn` (an integer page number, negative for upper-half addresses) limits it to the
   * page it lies in — and to every fragment of a superpage containing it — or `null` for every page. `asid` limits
   * non-global entries to that ASID (-1: every ASID); `globals` says whether global entries go too.
   */
  invalidate(vpn: number | null, asid: number, globals: boolean): void {
    const e = this.entries;
    for (let k = 0; k < e.length; k += SLOT_WORDS) {
      if (e[k + 1] === EMPTY || !this.matches(k, asid, globals)) continue;
      if (vpn !== null) {
        const span = 2 ** (e[k + 5] - 12);
        if (Math.floor(this.vpnAt(k) / span) !== Math.floor(vpn / span)) continue;
      }
      e[k + 1] = EMPTY;
    }
  }

  /** The number of slots holding a translation. */
  count(): number {
    let n = 0;
    for (let k = 1; k < this.entries.length; k += SLOT_WORDS) if (this.entries[k] !== EMPTY) n++;
    return n;
  }

  /** The page number cached at word offset `k` (37 signed bits: the nibble, corrected by {@link WIDE_KEY}). */
  private vpnAt(k: number): number {
    const e = this.entries;
    const key = e[k + 1];
    let hi = (key << 28) >> 28;
    if ((key & WIDE_KEY) !== 0) hi += hi < 0 ? 16 : -16;
    return hi * 4294967296 + (e[k] >>> 0);
  }

  private matches(k: number, asid: number, globals: boolean): boolean {
    const key = this.entries[k + 1];
    if ((key & GLOBAL_KEY) !== 0) return globals;
    return asid === -1 || ((key >>> 4) & 0xffff) === asid;
  }
}

/**
 * The slot a page's translation lives in under `asid` (before masking): the page number's low bits mixed with the
 * ASID (an odd multiplier spreads consecutive ASIDs across the slots). The walkers' hit paths compute the same.
 */
export function slotIndex(vpnLo: number, asid: number): number {
  return vpnLo ^ (asid * 97);
}

/**
 * The key word of a translation: `vpnHi` is the page number divided by 2^32 (rounded down: an integer in [-16, 16)),
 * stored as its low nibble plus {@link WIDE_KEY} when it lies outside [-8, 8); then the ASID, or the global marker.
 * For page numbers of 36 signed bits (every format but AArch64) this is the nibble alone, as before.
 */
export function tlbKey(vpnHi: number, asid: number, global: boolean): number {
  return (vpnHi & 0xf) | (((vpnHi + 8) >> 4) & 1 ? WIDE_KEY : 0) | (global ? GLOBAL_KEY : asid << 4);
}
