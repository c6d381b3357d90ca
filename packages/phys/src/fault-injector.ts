import { VmError } from './errors.js';

/**
 * Where an allocation happens. Each allocation counts at exactly one site (a page-table frame at `ptable` only):
 * `frame` — a page frame from `PageAllocator` (any usage but `PTABLE`); `ptable` — a page-table frame (usage
 * `PTABLE`, a pmap's); `map-entry` — a map entry from the mapper's entry pool; `zone` — a kmalloc zone taking its
 * pages; `kmalloc` — a kmalloc block; `object`, `amap`, `anon` — memobj's memory objects, anonymous maps and anons
 * (each charged to kmalloc as well); `rmap` — a reverse-map entry of the mapper (one per page mapping, when reclaim
 * keeps a reverse map); `swap` — a swap slot.
 */
export type FaultSite = 'frame' | 'ptable' | 'map-entry' | 'zone' | 'kmalloc' | 'object' | 'amap' | 'anon' | 'rmap' | 'swap';

/** Every site, in a fixed order: a site's index here is what {@link FaultInjector.hitIndex} takes (`frame` is 0). */
export const FAULT_SITES: readonly FaultSite[] = [
  'frame',
  'ptable',
  'map-entry',
  'zone',
  'kmalloc',
  'object',
  'amap',
  'anon',
  'rmap',
  'swap',
];

const SITE_INDEX: Readonly<Record<FaultSite, number>> = {
  frame: 0,
  ptable: 1,
  'map-entry': 2,
  zone: 3,
  kmalloc: 4,
  object: 5,
  amap: 6,
  anon: 7,
  rmap: 8,
  swap: 9,
};

/**
 * The fault-injection hook. Each `PageAllocator` owns one (`alloc.faults`) and every layer reaches it through the
 * allocator it already shares, so ESM and CJS copies of a layer never see two hooks. An allocator asks
 * {@link FaultInjector.hit} before it allocates; when the answer is true it behaves exactly as if memory had run
 * out (returns `null`/`NO_MEMORY` or throws `ENOMEM`, state unchanged).
 */
export class FaultInjector {
  private readonly attempts = new Float64Array(FAULT_SITES.length);
  // Countdown per site to a one-shot failure; 0 = not armed.
  private readonly countdown = new Float64Array(FAULT_SITES.length);
  // Successes left before every allocation fails; -1 = off.
  private budget = -1;
  private armedSites = 0;
  private failed = 0;

  /**
   * The `n`-th allocation at `site` from now fails (n ≥ 1, so 1 is the very next one); the ones before and after it
   * succeed. Arming a site again replaces its countdown; other sites keep theirs. A `site` that is not a
   * {@link FaultSite} or an `n` that is not an integer ≥ 1 → `VmError('EINVAL')`, nothing armed.
   */
  failAt(site: FaultSite, n: number): void {
    // Own keys only: 'constructor' or '__proto__' must not pass for a site through the prototype chain.
    const i = typeof site === 'string' && Object.prototype.hasOwnProperty.call(SITE_INDEX, site) ? SITE_INDEX[site] : undefined;
    if (i === undefined) throw new VmError('EINVAL', `site must be one of ${FAULT_SITES.join(', ')}, got ${String(site)}`);
    if (!Number.isSafeInteger(n) || n < 1) throw new VmError('EINVAL', `n must be an integer ≥ 1, got ${String(n)}`);
    if (this.countdown[i] === 0) this.armedSites++;
    this.countdown[i] = n;
  }

  /**
   * After `n` more successful allocations (at any site; n ≥ 0, 0 meaning the very next one fails), every allocation
   * fails until {@link reset}. Replaces an earlier budget. An `n` that is not an integer ≥ 0 → `VmError('EINVAL')`.
   */
  failAfter(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new VmError('EINVAL', `n must be an integer ≥ 0, got ${String(n)}`);
    this.budget = n;
  }

  /** Disarms every failure and zeroes the counts. */
  reset(): void {
    this.attempts.fill(0);
    this.countdown.fill(0);
    this.budget = -1;
    this.armedSites = 0;
    this.failed = 0;
  }

  /**
   * Allocations attempted per site since creation or the last {@link reset} (the ones made to fail included), and
   * how many were made to fail. A fresh object each call.
   */
  counts(): Record<FaultSite, number> & {
    /** Allocations made to fail, all sites together. */
    failed: number;
  } {
    const out = { failed: this.failed } as Record<FaultSite, number> & { failed: number };
    for (const s of FAULT_SITES) out[s] = this.attempts[SITE_INDEX[s]];
    return out;
  }

  /** True while some failure is armed: a {@link failAt} countdown not yet reached, or a {@link failAfter} budget. */
  get armed(): boolean {
    return this.armedSites > 0 || this.budget >= 0;
  }

  /**
   * Called by an allocator once per allocation at `site`, before it changes anything; counts the attempt. Returns
   * true when this allocation must fail as if memory were exhausted. `site` is trusted (not validated): this is
   * the allocators' call, not a test's.
   */
  hit(site: FaultSite): boolean {
    return this.hitIndex(SITE_INDEX[site]);
  }

  /**
   * {@link hit} by the site's position in {@link FAULT_SITES} (0 … 7, not validated): for allocators' hot paths, where
   * it costs one counter increment and one test while nothing is armed.
   */
  hitIndex(i: number): boolean {
    this.attempts[i]++;
    if (this.armedSites === 0 && this.budget < 0) return false;
    return this.decide(i);
  }

  private decide(i: number): boolean {
    let fail = false;
    const c = this.countdown[i];
    if (c > 0) {
      this.countdown[i] = c - 1;
      if (c === 1) {
        this.armedSites--;
        fail = true;
      }
    }
    if (!fail && this.budget >= 0) {
      if (this.budget === 0) fail = true;
      else this.budget--;
    }
    if (fail) this.failed++;
    return fail;
  }
}
