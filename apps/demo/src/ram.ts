import { isVmError } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { createVm } from '@vmlayers/memobj';
import { runScenario } from './scenario.js';
import { Session } from './session.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Probes stop here: a size that does not work with this much RAM is not too small. */
const PROBE_LIMIT = 64 * MiB;

/** Whether the scenario (or, for a trace, the boot alone) runs on one RAM bank of `ramSize` bytes. */
export function ramWorks(arch: PmapFactory, ramSize: number, scenario: boolean): { ok: true } | { ok: false; message: string } {
  try {
    if (scenario) runScenario(new Session({ arch, ramSize }, () => {}));
    else createVm({ arch, ramSize });
    return { ok: true };
  } catch (e) {
    if (isVmError(e)) return { ok: false, message: e.message };
    throw e;
  }
}

/**
 * The smallest RAM size (a multiple of the page size) the scenario, or a boot, works with, found by bisection
 * between `failing` (known too small) and {@link PROBE_LIMIT}; null when it fails there too (then size is not the
 * problem). Found by running it rather than by a table, so it follows what the layers cost today.
 */
export function smallestRam(arch: PmapFactory, failing: number, scenario: boolean): number | null {
  const ps = arch.pageSize;
  let hi = Math.max(PROBE_LIMIT, Math.ceil(failing / ps) * ps);
  if (hi <= failing || !ramWorks(arch, hi, scenario).ok) return null;
  let lo = Math.floor(failing / ps) * ps;
  while (hi - lo > ps) {
    const mid = lo + Math.max(1, Math.floor((hi - lo) / 2 / ps)) * ps;
    if (ramWorks(arch, mid, scenario).ok) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The smallest size of the form 2^k or 1.5 × 2^k KiB (or pages, when they are larger) that is at least `n`. */
export function niceSize(n: number, pageSize: number): number {
  let p = Math.max(KiB, pageSize);
  for (;;) {
    if (p >= n) return p;
    if (1.5 * p >= n && (1.5 * p) % pageSize === 0) return 1.5 * p;
    p *= 2;
  }
}

/** A size as `--ram` takes it: `192K`, `1536K`, `16M`, `4G`, or bytes. */
export function sizeFlag(n: number): string {
  if (n % GiB === 0) return `${n / GiB}G`;
  if (n % MiB === 0) return `${n / MiB}M`;
  if (n % KiB === 0) return `${n / KiB}K`;
  return `${n}`;
}
