import { appendFileSync, writeFileSync } from 'node:fs';
import { benchSink, figureResult, measureRow } from './harness.js';
import type { BenchFigure, BenchOptions, BenchResult, BenchRow } from './harness.js';
import { formatTarget } from './stats.js';

/** What a bench module's default export yields: rows to time, figures to report, and notes to print as they come. */
export type BenchItem = BenchRow | BenchFigure | string;

/** A bench module's default export: a generator, so each row's set-up runs just before it is measured. */
export type BenchSuite = () => Iterable<BenchItem>;

/** A result with the package it belongs to, as collected into the JSON file. */
export interface CollectedResult extends BenchResult {
  readonly package: string;
}

const NAME = 56;

function num(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 100 ? x.toFixed(1) : x.toFixed(2);
}

function ns(x: number): string {
  if (!Number.isFinite(x)) return '';
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} ms` : x >= 1e3 ? `${(x / 1e3).toFixed(2)} µs` : `${x.toFixed(1)} ns`;
}

/** The table header printed above the rows of {@link formatRow}. */
export function formatHeader(): string {
  return (
    `  ${'row'.padEnd(NAME)} ${'candidate'.padStart(10)} ${'baseline'.padStart(10)}  ` +
    `${'ratio'.padStart(13)} ${'spread min–max'.padEnd(16)} ${'target'.padEnd(9)} verdict`
  );
}

/** One printed line: cost per operation on each side, the median ratio and what it measures, spread, target, verdict. */
export function formatRow(r: BenchResult): string {
  const what = r.measure === 'value' ? r.unit : r.measure === 'speed' ? '× speed' : '× time';
  const spread = r.kind === 'ratio' ? `${num(r.spread.min)}–${num(r.spread.max)}` : '';
  const target = r.target ? formatTarget(r.target).replace('×', r.kind === 'figure' ? ` ${r.unit}` : '×') : '—';
  return (
    `  ${r.row.padEnd(NAME)} ${ns(r.candidateNs).padStart(10)} ${ns(r.baselineNs).padStart(10)}  ` +
    `${`${num(r.ratio)} ${what}`.padStart(13)} ${spread.padEnd(16)} ${target.padEnd(9)} ${r.verdict ?? ''}`
  ).trimEnd();
}

/** The whole table for `results`, header first. */
export function formatTable(results: readonly BenchResult[]): string {
  return [formatHeader(), ...results.map(formatRow)].join('\n');
}

/**
 * Collects results across suites and writes them as one JSON document: `{ date, node, results: [...] }` with, per
 * row, the package, the median ratio, its spread, the target, the verdict and every round's raw figures.
 */
export class BenchCollector {
  readonly results: CollectedResult[] = [];

  add(pkg: string, result: BenchResult): void {
    this.results.push({ package: pkg, ...result });
  }

  toJSON(): { date: string; node: string; platform: string; results: CollectedResult[] } {
    return { date: new Date().toISOString(), node: process.version, platform: `${process.platform}-${process.arch}`, results: this.results };
  }

  write(file: string): void {
    writeFileSync(file, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }
}

/** Environment variable naming a file to which {@link runSuite} appends each result as a JSON line (set by the CLI). */
export const BENCH_JSONL_ENV = 'VMLAYERS_BENCH_JSONL';

/**
 * Runs a suite: prints `title` and the table header, then each note, row and figure as it comes; returns the
 * results (also appended to the file named by {@link BENCH_JSONL_ENV} when it is set).
 */
export function runSuite(
  pkg: string,
  title: string,
  suite: BenchSuite,
  options?: Partial<BenchOptions>,
  out: (line: string) => void = (l) => console.log(l),
): BenchResult[] {
  const results: BenchResult[] = [];
  const jsonl = process.env[BENCH_JSONL_ENV];
  out(`${pkg} — ${title}`);
  out(formatHeader());
  for (const item of suite()) {
    if (typeof item === 'string') {
      out(`  · ${item}`);
      continue;
    }
    const r = 'candidate' in item ? measureRow(item, options) : figureResult(item);
    results.push(r);
    out(formatRow(r));
    if (jsonl) appendFileSync(jsonl, `${JSON.stringify({ package: pkg, ...r })}\n`);
  }
  if (benchSink() === 0x5eed_5eed) out('');
  return results;
}
