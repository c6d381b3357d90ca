import { describe, expect, it } from 'vitest';
import {
  BenchCollector,
  compileLoop,
  figureResult,
  formatRow,
  formatTarget,
  measureRow,
  median,
  quantile,
  ratioOf,
  runSuite,
  spreadOf,
  verdictOf,
} from '../src/index.js';

describe('bench statistics', () => {
  it('median of odd and even counts, unsorted input left alone', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });

  it('quantiles interpolate between closest ranks', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 0.25)).toBe(3.5);
    expect(quantile(xs, 0.75)).toBe(8.5);
    expect(quantile(xs, 1)).toBe(11);
    expect(spreadOf([0.5, 0.3, 0.4, 0.6, 0.2])).toEqual({ min: 0.2, q1: 0.3, q3: 0.5, max: 0.6 });
  });

  it('ratios: speed is baseline ÷ candidate cost, time is candidate ÷ baseline', () => {
    expect(ratioOf(25, 10, 'speed')).toBe(0.4);
    expect(ratioOf(30, 10, 'time')).toBe(3);
  });

  it('verdicts: OK when every bound is met, BELOW otherwise, none without a target', () => {
    expect(verdictOf(0.4, { atLeast: 0.4 })).toBe('OK');
    expect(verdictOf(0.39, { atLeast: 0.4 })).toBe('BELOW');
    expect(verdictOf(3, { atMost: 3 })).toBe('OK');
    expect(verdictOf(3.01, { atMost: 3 })).toBe('BELOW');
    expect(verdictOf(1, { atLeast: 0.5, atMost: 2 })).toBe('OK');
    expect(verdictOf(2.5, { atLeast: 0.5, atMost: 2 })).toBe('BELOW');
    expect(verdictOf(Number.NaN, { atLeast: 0 })).toBe('BELOW');
    expect(verdictOf(1, undefined)).toBeUndefined();
    expect(verdictOf(1, {})).toBeUndefined();
    expect(formatTarget({ atLeast: 0.4 })).toBe('≥ 0.40×');
    expect(formatTarget({ atMost: 3 })).toBe('≤ 3.00×');
    expect(formatTarget(undefined)).toBe('—');
  });
});

describe('bench harness', () => {
  it('compiles every loop from unique source, and the loop folds the results', () => {
    const a = compileLoop('row');
    const b = compileLoop('row');
    expect(a.toString()).not.toBe(b.toString());
    expect(a((i) => i, 10)).toBe(45);
    expect(a(() => undefined, 3)).toBe(0);
  });

  it('measures interleaved rounds: one ratio per round, median and spread of those', () => {
    const work = (k: number) => (i: number) => {
      let s = 0;
      for (let j = 0; j < k; j++) s = (s + ((i * j) ^ j)) | 0;
      return s;
    };
    const r = measureRow(
      { name: 'four times the work', candidate: work(400), baseline: work(100), measure: 'time', target: { atMost: 100 } },
      { rounds: 11, warmup: 1, roundMs: 3 },
    );
    expect(r.rounds).toHaveLength(11);
    for (const x of r.rounds) expect(x.ratio).toBeCloseTo(x.candidateNs / x.baselineNs, 10);
    expect(r.ratio).toBe(median(r.rounds.map((x) => x.ratio)));
    expect(r.spread.min).toBeLessThanOrEqual(r.ratio);
    expect(r.spread.max).toBeGreaterThanOrEqual(r.ratio);
    expect(r.ratio).toBeGreaterThan(1);
    expect(r.verdict).toBe('OK');
    expect(formatRow(r)).toMatch(/four times the work .*× time .*≤ 100\.00× +OK$/);
  });

  it('runs the untimed set-up before every run of its side and caps the operations per run', () => {
    let used = 0;
    let prepared = 0;
    const r = measureRow(
      {
        name: 'capped',
        candidate: () => {
          if (++used > 50) throw new Error('ran past maxOps without set-up');
          let s = 0;
          for (let j = 0; j < 2000; j++) s = (s + j) | 0;
          return s;
        },
        baseline: () => 1,
        prepare: {
          candidate: () => {
            used = 0;
            prepared++;
          },
        },
        maxOps: 50,
      },
      { rounds: 11, warmup: 1, roundMs: 2 },
    );
    expect(r.candidateOps).toBeLessThanOrEqual(50);
    expect(prepared).toBeGreaterThanOrEqual(12);
  });

  it('rejects fewer than one round', () => {
    expect(() => measureRow({ name: 'x', candidate: () => 1, baseline: () => 1 }, { rounds: 0 })).toThrow(RangeError);
  });

  it('runs a suite: notes, rows and figures, collected with their package', () => {
    const lines: string[] = [];
    const results = runSuite(
      '@vmlayers/x',
      'demo',
      function* () {
        yield 'a note';
        yield { name: 'memory', value: 12, unit: 'B/frame', target: { atMost: 10 } };
      },
      undefined,
      (l) => lines.push(l),
    );
    expect(lines[0]).toBe('@vmlayers/x — demo');
    expect(lines).toContain('  · a note');
    expect(lines.at(-1)).toMatch(/memory .*12\.00 B\/frame +≤ 10\.00 B\/frame +BELOW$/);
    expect(results[0]).toMatchObject({ kind: 'figure', ratio: 12, verdict: 'BELOW' });
    const c = new BenchCollector();
    c.add('@vmlayers/x', figureResult({ name: 'memory', value: 12, unit: 'B/frame' }));
    expect(c.toJSON().results[0]).toMatchObject({ package: '@vmlayers/x', row: 'memory', verdict: undefined, rounds: [] });
  });
});
