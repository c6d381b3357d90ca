/** A row's target: the median ratio must be at least and/or at most these values. */
export interface BenchTarget {
  readonly atLeast?: number;
  readonly atMost?: number;
}

/** `OK` when the median meets the target, `BELOW` when it does not; `undefined` for a row without a target. */
export type Verdict = 'OK' | 'BELOW';

/** How the per-round ratios of a set of numbers spread: min, quartiles and max. */
export interface Spread {
  readonly min: number;
  readonly q1: number;
  readonly q3: number;
  readonly max: number;
}

function sorted(xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError('no values');
  return [...xs].sort((a, b) => a - b);
}

/** Quantile `q` (0..1) with linear interpolation between closest ranks (the R-7 / NumPy default). */
export function quantile(xs: readonly number[], q: number): number {
  const s = sorted(xs);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo] + (s[hi] - s[lo]) * (h - lo);
}

/** The median: the middle value, or the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Min, quartiles and max of `xs`. */
export function spreadOf(xs: readonly number[]): Spread {
  const s = sorted(xs);
  return { min: s[0], q1: quantile(s, 0.25), q3: quantile(s, 0.75), max: s[s.length - 1] };
}

/**
 * How a round's candidate compares with its baseline, from the two costs per operation (any one time unit).
 * `speed`: baseline cost ÷ candidate cost (0.4 = the candidate runs at 0.4× the baseline's speed);
 * `time`: candidate cost ÷ baseline cost (3 = the candidate takes 3× the baseline's time).
 */
export function ratioOf(candidateCost: number, baselineCost: number, measure: 'speed' | 'time'): number {
  return measure === 'speed' ? baselineCost / candidateCost : candidateCost / baselineCost;
}

/** `OK` if `value` meets every bound of `target`, `BELOW` otherwise; `undefined` without a target. */
export function verdictOf(value: number, target: BenchTarget | undefined): Verdict | undefined {
  if (!target || (target.atLeast === undefined && target.atMost === undefined)) return undefined;
  if (!Number.isFinite(value)) return 'BELOW';
  if (target.atLeast !== undefined && !(value >= target.atLeast)) return 'BELOW';
  if (target.atMost !== undefined && !(value <= target.atMost)) return 'BELOW';
  return 'OK';
}

/** A target as printed: `≥ 0.40×`, `≤ 3.00×`, `0.25–4.00×`, or `—`. */
export function formatTarget(target: BenchTarget | undefined): string {
  if (!target) return '—';
  const { atLeast, atMost } = target;
  if (atLeast !== undefined && atMost !== undefined) return `${atLeast.toFixed(2)}–${atMost.toFixed(2)}×`;
  if (atLeast !== undefined) return `≥ ${atLeast.toFixed(2)}×`;
  if (atMost !== undefined) return `≤ ${atMost.toFixed(2)}×`;
  return '—';
}
