export { checkLayering, LAYER_RULES } from './layering.js';
export type { Violation } from './layering.js';
export { errnoOf, expectErrno, expectUnchanged, outcomeOf } from './errors.js';
export { NOT_UINTS, WIDE_UINTS } from './hostile.js';
export type { HostileValue } from './hostile.js';
export { ARCHS } from './archs.js';
export type { ArchUnderTest } from './archs.js';
export { identityKernel } from './identity-kernel.js';
export type { IdentityKernel } from './identity-kernel.js';
export { readmeShows, captureLog } from './readme.js';
export {
  BENCH_JSONL_ENV,
  BenchCollector,
  DEFAULT_BENCH_OPTIONS,
  benchSink,
  compileLoop,
  figureResult,
  formatHeader,
  formatRow,
  formatTable,
  formatTarget,
  measureRow,
  median,
  quantile,
  ratioOf,
  runSuite,
  spreadOf,
  verdictOf,
} from './bench/index.js';
export type {
  BenchFigure,
  BenchItem,
  BenchLoop,
  BenchOp,
  BenchOptions,
  BenchResult,
  BenchRound,
  BenchRow,
  BenchSuite,
  BenchTarget,
  CollectedResult,
  Spread,
  Verdict,
} from './bench/index.js';
