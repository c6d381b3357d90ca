export { DEFAULT_BENCH_OPTIONS, benchSink, compileLoop, figureResult, measureRow } from './harness.js';
export type { BenchFigure, BenchLoop, BenchOp, BenchOptions, BenchResult, BenchRound, BenchRow } from './harness.js';
export { BENCH_JSONL_ENV, BenchCollector, formatHeader, formatRow, formatTable, runSuite } from './report.js';
export type { BenchItem, BenchSuite, CollectedResult } from './report.js';
export { formatTarget, median, quantile, ratioOf, spreadOf, verdictOf } from './stats.js';
export type { BenchTarget, Spread, Verdict } from './stats.js';
