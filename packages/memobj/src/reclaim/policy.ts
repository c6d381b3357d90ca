import { VmError, hex } from '@vmlayers/phys';

/** What a policy may ask of the pages it tracks: their accessed bits, through every mapping (the reverse map). */
export interface PolicyView {
  /** True when any mapping of frame `pa` has its accessed bit set; with `clear`, clears it in all of them. */
  referenced(pa: number, clear?: boolean): boolean;
}

/**
 * A page-replacement policy: it is told which user frames are resident (`added`, `removed`) and picks the next to
 * evict (`victim`). Frames are physical addresses of resident, reclaimable user pages (anonymous pages, pagers'
 * cached pages). `victim` must return a frame it was given and not told removed, skipping any for which
 * `busy(pa)` is true (a page the fault under way is copying from), or -1 when it has none to offer; it may read and
 * clear accessed bits through `view`. The reclaimer calls `removed` for the victim at once (a policy may already
 * have dropped it), then `added` again if the page cannot go after all (a dirty page whose pager cannot write),
 * and `removed` for every page freed otherwise.
 */
export interface ReclaimPolicy {
  /** Shown in reports (`fifo`, `clock`, `lru`, …). */
  readonly name: string;
  /** A user page became resident in frame `pa` (first touch, a copy-on-write copy, or a swap-in). */
  added(pa: number): void;
  /** Frame `pa` is no longer a tracked page (evicted or freed); a frame never added or already removed is ignored. */
  removed(pa: number): void;
  /** The frame to evict next (never one `busy` says is held), or -1 when there is none. */
  victim(view: PolicyView, busy: (pa: number) => boolean): number;
  /** Frames tracked now. */
  size(): number;
}

/**
 * A FIFO of frames with removal from the middle (lazy: a removed frame's queue position is skipped when met), in
 * plain number arrays and one `Map` of live positions — no object per page.
 */
class Queue {
  private q: number[] = [];
  private head = 0;
  private readonly live = new Map<number, number>(); // frame → its position in q
  push(pa: number): void {
    this.live.set(pa, this.q.length);
    this.q.push(pa);
  }
  delete(pa: number): void {
    this.live.delete(pa);
    if (this.live.size === 0) {
      this.q = [];
      this.head = 0;
    }
  }
  has(pa: number): boolean {
    return this.live.has(pa);
  }
  get size(): number {
    return this.live.size;
  }
  /** The oldest live frame, removed from the queue (and from `live`), or -1. */
  shift(): number {
    while (this.head < this.q.length) {
      const i = this.head++;
      const pa = this.q[i];
      if (this.live.get(pa) === i) {
        this.live.delete(pa);
        this.compact();
        return pa;
      }
    }
    return -1;
  }
  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.q.length) return;
    const rest = this.q.slice(this.head);
    this.q = [];
    this.head = 0;
    for (const pa of rest) if (this.live.has(pa)) this.push(pa);
  }
}

function add(q: Queue, pa: number, name: string): void {
  if (q.has(pa)) throw new Error(`${name}: frame ${hex(pa)} added twice`);
  q.push(pa);
}

/** First in, first out: the page resident longest goes, used or not (Belady's anomaly included). */
export function fifo(): ReclaimPolicy {
  const q = new Queue();
  return {
    name: 'fifo',
    added: (pa) => add(q, pa, 'fifo'),
    removed: (pa) => q.delete(pa),
    victim(_view, busy) {
      const skipped: number[] = [];
      let pa = q.shift();
      while (pa >= 0 && busy(pa)) {
        skipped.push(pa);
        pa = q.shift();
      }
      // A busy page (the one a fault is copying from: one at most) goes to the back; the others keep FIFO order.
      for (const s of skipped) q.push(s);
      return pa;
    },
    size: () => q.size,
  };
}

/**
 * CLOCK (second chance): the oldest page goes unless its accessed bit is set, in which case the bit is cleared
 * and the page moves to the back, as the hand of a clock sweeps past it.
 */
export function clock(): ReclaimPolicy {
  const q = new Queue();
  return {
    name: 'clock',
    added: (pa) => add(q, pa, 'clock'),
    removed: (pa) => q.delete(pa),
    victim(view, busy) {
      // Two sweeps at most: the first clears every bit it meets.
      for (let n = 2 * q.size + 1; n > 0; n--) {
        const pa = q.shift();
        if (pa < 0) return -1;
        if (busy(pa) || view.referenced(pa, true)) {
          q.push(pa);
          continue;
        }
        return pa;
      }
      return -1;
    },
    size: () => q.size,
  };
}

/**
 * LRU by aging (the textbook approximation hardware allows, as Linux ages pages from the accessed bit between its
 * active and inactive lists): at every choice each page's 8-bit age shifts right and takes its accessed bit (then
 * cleared) at the top; the page with the lowest age — used least recently — goes, the oldest resident among equals.
 * O(resident pages) per choice.
 */
export function lru(): ReclaimPolicy {
  const age = new Map<number, number>();
  return byScore(
    'lru',
    (pa, view) => {
      const a = (age.get(pa)! >>> 1) | (view.referenced(pa, true) ? 0x80 : 0);
      age.set(pa, a);
      return a;
    },
    // A page just brought in has just been used.
    (pa) => void age.set(pa, 0x80),
    (pa) => void age.delete(pa),
  );
}

/**
 * OPT (Belady's MIN): the page whose next use lies farthest in the future goes — never worse than any other policy,
 * and only possible when the future is known, as for a recorded trace. `nextUse(pa)` is the caller's answer for the
 * page in frame `pa`: when it is next referenced (any increasing measure: a step number), `Infinity` for never.
 * Ties go to the page resident longest. O(resident pages) per choice.
 */
export function opt(nextUse: (pa: number) => number): ReclaimPolicy {
  if (typeof nextUse !== 'function') throw new VmError('EINVAL', `opt needs a nextUse(pa) function, got ${hex(nextUse)}`);
  return byScore('opt', (pa) => -nextUse(pa));
}

/**
 * A policy that scores every resident page at each choice (all of them, so that scoring may age them) and evicts
 * the lowest score among those not busy, the one resident longest among equals. O(resident pages) per choice.
 */
function byScore(name: string, score: (pa: number, view: PolicyView) => number, onAdd?: (pa: number) => void, onRemove?: (pa: number) => void): ReclaimPolicy {
  const order: number[] = [];
  const live = new Set<number>();
  return {
    name,
    added(pa) {
      if (live.has(pa)) throw new Error(`${name}: frame ${hex(pa)} added twice`);
      live.add(pa);
      order.push(pa);
      onAdd?.(pa);
    },
    removed(pa) {
      if (!live.delete(pa)) return;
      order.splice(order.indexOf(pa), 1);
      onRemove?.(pa);
    },
    victim(view, busy) {
      let best = -1;
      let bestScore = Infinity;
      for (const pa of order) {
        const s = score(pa, view);
        if (!busy(pa) && s < bestScore) {
          best = pa;
          bestScore = s;
        }
      }
      return best;
    },
    size: () => live.size,
  };
}

/** The built-in policies by name. */
export const POLICIES: Readonly<Record<string, () => ReclaimPolicy>> = { fifo, clock, lru };

/** A policy from a name or an object (checked to have the interface's methods); else `EINVAL`. */
export function resolvePolicy(p: unknown): ReclaimPolicy {
  if (p === undefined) return clock();
  if (typeof p === 'string') {
    const make = Object.prototype.hasOwnProperty.call(POLICIES, p) ? POLICIES[p] : undefined;
    if (make === undefined) throw new VmError('EINVAL', `reclaim.policy must be ${Object.keys(POLICIES).join(', ')} or a ReclaimPolicy, got ${hex(p)}`);
    return make();
  }
  const o = p as Partial<ReclaimPolicy> | null;
  if (o === null || typeof o !== 'object' || typeof o.added !== 'function' || typeof o.removed !== 'function' || typeof o.victim !== 'function' || typeof o.size !== 'function') {
    throw new VmError('EINVAL', `reclaim.policy must be a policy name or an object with added, removed, victim and size, got ${hex(p)}`);
  }
  return o as ReclaimPolicy;
}
