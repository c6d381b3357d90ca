import { invariant } from '@vmlayers/phys';

/**
 * Hardware ASIDs for user address spaces, handed out as the original's armv7a `pmap_switch` does (`_pmap_asidAlloc`,
 * `_pmap_asidDealloc`), re-stated here:
 *
 * - an ASID is taken lazily, when a space is first switched to (`activate`), not when it is created;
 * - slots 1…`size` hold the spaces that have one (slot 0 means "none"), each slot with its own hardware ASID value;
 *   `ptr` is the slot handed out last, and the next one is taken after it, wrapping past `size` to 1;
 * - when that slot is taken, its space is evicted — it loses its ASID, and the TLB entries tagged with it are flushed
 *   (`TLBIASID`) — unless it is the active space, which is skipped: round-robin recycling;
 * - releasing a slot (a space destroyed) moves the space of slot `ptr` into it, with its hardware ASID value (the
 *   values of both slots swap), so the live slots stay packed below `ptr` and the moved space keeps its TLB entries.
 *
 * A space's ASID is `value[slot]`: what TTBR0 (AArch64) / CONTEXTIDR (ARMv7-A) would carry. Each address space here
 * owns its software TLB, so the tag is implicit; what the allocator decides that matters to translation is when a
 * space's TLB is flushed: on eviction.
 */
export interface AsidHolder {
  /** Slot in the allocator, 0 when the space has no ASID. */
  asidSlot: number;
  /** Called when the space loses its ASID to another: its TLB entries tagged with it must go. */
  asidEvicted(): void;
}

export class AsidAllocator<T extends AsidHolder> {
  /** Usable ASIDs (255 on ARMv7-A as the original, 65535 with AArch64's 16-bit ASIDs). */
  declare readonly size: number;
  declare private readonly owner: (T | null)[];
  declare private readonly value: Int32Array;
  private ptr = 0;
  // The spaces holding an ASID, for live() and check().
  private readonly holders = new Set<T>();
  /** Evictions so far (ASIDs taken from a live space). */
  evictions = 0;

  constructor(size: number) {
    this.size = size;
    this.owner = new Array<T | null>(size + 1).fill(null);
    this.value = new Int32Array(size + 1);
    for (let i = 0; i <= size; i++) this.value[i] = i;
  }

  /** The hardware ASID of `space`, 0 when it has none. */
  asidOf(space: T): number {
    return space.asidSlot === 0 ? 0 : this.value[space.asidSlot];
  }

  /** Gives `space` an ASID if it has none, evicting round-robin; `active` (the running space) is never evicted. */
  assign(space: T, active: T | null): void {
    if (space.asidSlot !== 0) return;
    for (;;) {
      this.ptr = this.ptr >= this.size ? 1 : this.ptr + 1;
      const held = this.owner[this.ptr];
      if (held === null) break;
      // The running space keeps its ASID: the original skips the slot whose ASID is in CONTEXTIDR.
      if (held === active) continue;
      held.asidSlot = 0;
      this.holders.delete(held);
      held.asidEvicted();
      this.evictions++;
      break;
    }
    this.owner[this.ptr] = space;
    space.asidSlot = this.ptr;
    this.holders.add(space);
  }

  /** Gives back `space`'s ASID (it is being destroyed). */
  release(space: T): void {
    const slot = space.asidSlot;
    if (slot === 0) return;
    if (slot !== this.ptr) {
      // The space of the last slot handed out moves down into the freed one, its ASID value with it.
      const last = this.owner[this.ptr];
      if (last !== null) {
        this.owner[slot] = last;
        last.asidSlot = slot;
        const v = this.value[slot];
        this.value[slot] = this.value[this.ptr];
        this.value[this.ptr] = v;
      } else this.owner[slot] = null;
    }
    this.owner[this.ptr] = null;
    this.ptr = this.ptr <= 1 ? this.size : this.ptr - 1;
    space.asidSlot = 0;
    this.holders.delete(space);
  }

  /** Spaces holding an ASID now. */
  live(): number {
    return this.holders.size;
  }

  /**
   * Invariants, in time proportional to the spaces holding an ASID (not to the 65535 of AArch64): each holder's slot
   * names it, slots and values are distinct and in range, and slot 0 stays unused with value 0.
   */
  check(): void {
    const values = new Set<number>();
    for (const h of this.holders) {
      const slot = h.asidSlot;
      invariant(slot >= 1 && slot <= this.size && this.owner[slot] === h, `ASID slot ${slot} does not name its space`);
      const v = this.value[slot];
      invariant(v >= 1 && v <= this.size && !values.has(v), `ASID slot ${slot} holds value ${v} twice or out of range`);
      values.add(v);
    }
    invariant(this.value[0] === 0 && this.owner[0] === null, 'ASID slot 0 must stay unused with value 0');
  }
}
