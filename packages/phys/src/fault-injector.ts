import { VmError } from './errors.js';

/** Where an allocation happens. Each allocation counts at exactly one site (a page-table frame at `ptable` only). */
export type FaultSite = 'frame' | 'ptable' | 'map-entry' | 'zone' | 'kmalloc' | 'object' | 'amap' | 'anon';

/** Every site, in a fixed order. */
export const FAULT_SITES: readonly FaultSite[] = [
  'frame',
  'ptable',
  'map-entry',
  'zone',
  'kmalloc',
  'object',
  'amap',
  'anon',
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

  /** The `n`-th allocation at `site` from now fails (n ≥ 1); the ones before and after it succeed. */
  failAt(site: FaultSite, n: number): void {
    // Own keys only: 'constructor' or '__proto__' must not pass for a site through the prototype chain.
    const i = typeof site === 'string' && Object.prototype.hasOwnProperty.call(SITE_INDEX, site) ? SITE_INDEX[site] : undefined;
    if (i === undefined) throw new VmError('EINVAL', `site must be one of ${FAULT_SITES.join(', ')}, got ${String(site)}`);
    if (!Number.isSafeInteger(n) || n < 1) throw new VmError('EINVAL', `n must be an integer ≥ 1, got ${String(n)}`);
    if (this.countdown[i] === 0) this.armedSites++;
    this.countdown[i] = n;
  }

  /** After `n` more successful allocations (at any site), every allocation fails until {@link reset}. */
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

  /** Allocations attempted per site since creation or the last {@link reset}, and how many were made to fail. */
  counts(): Record<FaultSite, number> & { failed: number } {
    const out = { failed: this.failed } as Record<FaultSite, number> & { failed: number };
    for (const s of FAULT_SITES) out[s] = this.attempts[SITE_INDEX[s]];
    return out;
  }

  /** True while some failure is armed. */
  get armed(): boolean {
    return this.armedSites > 0 || this.budget >= 0;
  }

  /**
   * Called by an allocator once per allocation at `site`, before it changes anything. Returns true when this
   * allocation must fail as if memory were exhausted.
   */
  hit(site: FaultSite): boolean {
    return this.hitIndex(SITE_INDEX[site]);
  }

  /** {@link hit} by the site's position in {@link FAULT_SITES}: for allocators' hot paths. */
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
