import { median, ratioOf, spreadOf, verdictOf } from './stats.js';
import type { BenchTarget, Spread, Verdict } from './stats.js';

/** One operation of a measured loop: called once per iteration with the iteration number; its result is consumed. */
export type BenchOp = (i: number) => number | void;

/** A timed comparison: `candidate` against `baseline`, the same number of rounds, interleaved. */
export interface BenchRow {
  /** What the row measures, as printed. */
  readonly name: string;
  /** The operation under test. */
  readonly candidate: BenchOp;
  /** The operation doing the least work the candidate must do (or the reference point of a growth figure). */
  readonly baseline: BenchOp;
  /** `speed` (default): baseline time ÷ candidate time; `time`: candidate time ÷ baseline time. */
  readonly measure?: 'speed' | 'time';
  readonly target?: BenchTarget;
  /** Rounds, warm-up rounds and CPU time per side and round, overriding the run's options. */
  readonly options?: Partial<BenchOptions>;
  /**
   * Untimed set-up run before every timed run of a side (a fresh process to fault in, say), for workloads that
   * use something up; with `maxOps`, the most iterations one run may do before it needs that set-up again.
   */
  readonly prepare?: { readonly candidate?: () => void; readonly baseline?: () => void };
  readonly maxOps?: number;
}

/** A single measured value that is not a timed ratio (bytes per frame, kernel heap bytes). */
export interface BenchFigure {
  readonly name: string;
  readonly value: number;
  /** Unit as printed after the value (`B/frame`, `KiB`). */
  readonly unit: string;
  readonly target?: BenchTarget;
}

export interface BenchOptions {
  /** Measured rounds, each timing the baseline and the candidate once (at least 11 for the figures of DESIGN §5). */
  rounds: number;
  /** Rounds run and thrown away first, after calibration, so both loops reach optimised code. */
  warmup: number;
  /** Process CPU time each side of a round aims at, in milliseconds. */
  roundMs: number;
}

/** Defaults: 11 rounds after 3 warm-up rounds, about 25 ms of CPU time per side and round. */
export const DEFAULT_BENCH_OPTIONS: Readonly<BenchOptions> = { rounds: 11, warmup: 3, roundMs: 25 };

/** One measured round: process CPU nanoseconds per operation on each side, and the round's ratio. */
export interface BenchRound {
  readonly candidateNs: number;
  readonly baselineNs: number;
  readonly ratio: number;
}

/** The outcome of a {@link BenchRow}, or of a {@link BenchFigure} (then `rounds` is empty and `ratio` the value). */
export interface BenchResult {
  readonly kind: 'ratio' | 'figure';
  readonly row: string;
  readonly measure: 'speed' | 'time' | 'value';
  /** Median of the per-round ratios (a figure's value). */
  readonly ratio: number;
  /** Spread of the per-round ratios (a figure: all four equal its value). */
  readonly spread: Spread;
  readonly unit: string;
  readonly target: BenchTarget | undefined;
  readonly verdict: Verdict | undefined;
  /** Median CPU nanoseconds per operation, candidate and baseline (NaN for a figure). */
  readonly candidateNs: number;
  readonly baselineNs: number;
  /** Operations per round, candidate and baseline, from calibration. */
  readonly candidateOps: number;
  readonly baselineOps: number;
  readonly rounds: readonly BenchRound[];
}

/** A measured loop: runs `op` for iterations 0..n-1 and returns the folded results. */
export type BenchLoop = (op: BenchOp, n: number) => number;

let loopSerial = 0;
let sinkValue = 0;

/**
 * A loop compiled from its own source. V8 keeps type feedback per function *source*, so two loops built from the
 * same closure or template would share it and the second would run with the first's (polymorphic) feedback; each
 * loop here carries a unique tag in its text and `sourceURL`, so it is compiled and optimised on its own. The loop
 * is a standalone function called once per round (never inlined into a shared caller: it is on-stack-replaced in
 * its own body), and `op` is monomorphic at its one call site, so V8 inlines the operation into it — the same for
 * candidate and baseline, which is what makes their ratio fair. Results are folded into the returned value, which
 * the harness stores in a module-level sink the optimiser cannot drop.
 */
export function compileLoop(tag: string): BenchLoop {
  const id = `${tag.replace(/[^A-Za-z0-9_]+/g, '_')}_${++loopSerial}`;
  const source =
    `"use strict";\n// bench loop ${id}\nlet s = 0;\n` +
    `for (let i = 0; i < n; i++) s = (s + op(i)) | 0;\nreturn s;\n//# sourceURL=bench-loop-${id}.js`;
  return new Function('op', 'n', source) as BenchLoop;
}

/** The folded results of every loop run so far (kept so no loop's work is dead code). */
export function benchSink(): number {
  return sinkValue;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Process CPU nanoseconds per operation of `n` iterations of `loop(op)`. */
// With --expose-gc, a scavenge before each timed run, so that one side's young garbage is not charged to the other.
const gc = (globalThis as { gc?: (o: { type: 'minor' }) => void }).gc;

function timeLoop(loop: BenchLoop, op: BenchOp, n: number, prepare: (() => void) | undefined): number {
  prepare?.();
  gc?.({ type: 'minor' });
  const t0 = cpuMicros();
  sinkValue ^= loop(op, n);
  return ((cpuMicros() - t0) * 1000) / n;
}

/**
 * Iterations of `loop(op)` taking about `ms` of CPU time: doubled until a run takes a fifth of `ms` (so the loop
 * is past the interpreter), then scaled; warm-up rounds scale it again from their own timing.
 */
function calibrate(loop: BenchLoop, op: BenchOp, ms: number, prepare: (() => void) | undefined, maxOps: number): number {
  let n = 1;
  for (;;) {
    prepare?.();
    const t0 = cpuMicros();
    sinkValue ^= loop(op, n);
    const us = cpuMicros() - t0;
    if (us * 5 >= ms * 1000 || n >= maxOps) return Math.min(maxOps, Math.max(1, Math.round((n * ms * 1000) / Math.max(us, 1))));
    n = Math.min(maxOps, n * 2);
  }
}

/** Iterations taking `ms` of CPU time at `ns` per iteration, at most `maxOps`. */
function perRound(ns: number, ms: number, maxOps: number): number {
  return Math.max(1, Math.min(maxOps, Math.round((ms * 1e6) / Math.max(ns, 0.01))));
}

function options(row: BenchRow, run: Partial<BenchOptions> | undefined): BenchOptions {
  const o = { ...DEFAULT_BENCH_OPTIONS, ...run, ...row.options };
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new RangeError(`rounds: ${o.rounds} is not a positive integer`);
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw new RangeError(`warmup: ${o.warmup} is not a whole number`);
  if (!(o.roundMs > 0)) throw new RangeError(`roundMs: ${o.roundMs} is not positive`);
  return o;
}

/**
 * Measures `row`: compiles a loop of its own for each side, calibrates each to about `roundMs` of CPU time, runs
 * `warmup` interleaved rounds (each re-sizing the rounds from its timing), then `rounds` measured rounds, baseline and candidate alternating which goes first
 * (so a drifting host favours neither), each round giving one ratio. The result is the median ratio and its spread.
 */
export function measureRow(row: BenchRow, run?: Partial<BenchOptions>): BenchResult {
  const o = options(row, run);
  const measure = row.measure ?? 'speed';
  const candLoop = compileLoop(`candidate ${row.name}`);
  const baseLoop = compileLoop(`baseline ${row.name}`);
  const maxOps = row.maxOps ?? 2 ** 30;
  if (!Number.isInteger(maxOps) || maxOps < 1) throw new RangeError(`maxOps: ${maxOps} is not a positive integer`);
  const prepC = row.prepare?.candidate;
  const prepB = row.prepare?.baseline;
  let candOps = calibrate(candLoop, row.candidate, o.roundMs, prepC, maxOps);
  let baseOps = calibrate(baseLoop, row.baseline, o.roundMs, prepB, maxOps);
  const rounds: BenchRound[] = [];
  for (let r = -o.warmup; r < o.rounds; r++) {
    let c: number;
    let b: number;
    if (r & 1) {
      c = timeLoop(candLoop, row.candidate, candOps, prepC);
      b = timeLoop(baseLoop, row.baseline, baseOps, prepB);
    } else {
      b = timeLoop(baseLoop, row.baseline, baseOps, prepB);
      c = timeLoop(candLoop, row.candidate, candOps, prepC);
    }
    if (r >= 0) rounds.push({ candidateNs: c, baselineNs: b, ratio: ratioOf(c, b, measure) });
    else {
      // Optimised code runs faster than the calibration saw: size the measured rounds from the warm-up's timing.
      candOps = perRound(c, o.roundMs, maxOps);
      baseOps = perRound(b, o.roundMs, maxOps);
    }
  }
  const ratios = rounds.map((x) => x.ratio);
  const ratio = median(ratios);
  return {
    kind: 'ratio',
    row: row.name,
    measure,
    ratio,
    spread: spreadOf(ratios),
    unit: '×',
    target: row.target,
    verdict: verdictOf(ratio, row.target),
    candidateNs: median(rounds.map((x) => x.candidateNs)),
    baselineNs: median(rounds.map((x) => x.baselineNs)),
    candidateOps: candOps,
    baselineOps: baseOps,
    rounds,
  };
}

/** A {@link BenchFigure} as a result, with its verdict. */
export function figureResult(f: BenchFigure): BenchResult {
  return {
    kind: 'figure',
    row: f.name,
    measure: 'value',
    ratio: f.value,
    spread: { min: f.value, q1: f.value, q3: f.value, max: f.value },
    unit: f.unit,
    target: f.target,
    verdict: verdictOf(f.value, f.target),
    candidateNs: Number.NaN,
    baselineNs: Number.NaN,
    candidateOps: 0,
    baselineOps: 0,
    rounds: [],
  };
}
