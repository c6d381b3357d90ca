import { ARCHES, Session, frameMapModel, parseTrace, scenarioSteps, traceSteps } from '@vmlayers/demo/lib';
import type { FrameMapModel, Step, Trace } from '@vmlayers/demo/lib';
import type { Pmap } from '@vmlayers/phys';

/** What runs: the demo's narrated scenario, or a trace in the demo's format. */
export type Workload = { kind: 'scenario' } | { kind: 'trace'; file: string; text: string };

/** A run's machine and workload. */
export interface RunConfig {
  /** An architecture of the demo (`sv39`, `ia32`, `armv7m`). */
  arch: string;
  /** A board preset; the architecture's default when neither this nor `ramSize` is given. */
  board?: string;
  /** One RAM bank of this many bytes instead of a preset. */
  ramSize?: number;
  workload: Workload;
}

/** TLB counts summed over every address space the run has had, exited ones included (`Pmap.stats()`). */
export interface TlbTotals {
  hits: number;
  misses: number;
  flushes: number;
}

/** What the playground shows of one step, kept so that stepping back shows exactly what stepping forward showed. */
export interface StepRecord {
  /** 1-based position of the step in the run. */
  index: number;
  /** The demo's step: narration, events, meminfo, page map and `/proc/<pid>/maps` of every process. */
  step: Step;
  /** The frame map drawn from the page map and the frame owners at the end of the step. */
  model: FrameMapModel;
  /** Kind of every cell of the frame map in address order (an index into `Run.kinds`). */
  cells: Uint16Array;
  tlb: TlbTotals;
  /** Milliseconds the step took to run and record (library work plus the frame-map model). */
  ms: number;
}

/** Frames per cell are chosen so that the map has at most this many cells (128 × 128). */
const MAX_CELLS = 128 * 128;
/** Cells per row of the frame map. */
export const COLUMNS = 64;

/**
 * One run of a workload on a freshly booted vm, stepped like a debugger. Forward runs the next step on the live vm
 * (the demo's generators stop between steps); back replays from boot to the step before, so the live vm — what a
 * click on a frame or a table asks — is exactly in that step's state, and the step's record (taken when it first
 * ran) is shown unchanged. Everything shown is the library's own output: the demo's steps, `vm.pageMap()`, the
 * owners from `onEvent`, `Pmap.stats()`.
 *
 * A trace is parsed and checked whole before anything runs: a bad one throws the demo's `TraceErrors` (every bad
 * line with its number) from the constructor.
 */
export class Run {
  readonly config: RunConfig;
  readonly trace: Trace | null;
  /** Every step run so far, in order; `records.length` is the total once `ended`. */
  readonly records: StepRecord[] = [];
  /** The kinds of frame-map cells met so far (`StepRecord.cells` indexes it). */
  readonly kinds: string[] = [];
  /** Address of every cell of the frame map, in address order (the same for every step of a board). */
  cellAddrs: Float64Array = new Float64Array(0);
  /** The step the live vm is at, 1-based (0 before the boot step). */
  position = 0;
  /** True when the workload has no step after the last record. */
  ended = false;
  /** What stopped a trace before its end (a line that did not replay as written), if anything did. */
  failure: Error | null = null;
  session!: Session;
  private gen!: Generator<Step | null, void, undefined>;
  private readonly kindIndex = new Map<string, number>();
  private pmaps = new Map<number, Pmap>();
  private lastStats = new Map<number, TlbTotals>();

  constructor(config: RunConfig) {
    if (!Object.prototype.hasOwnProperty.call(ARCHES, config.arch)) throw new Error(`unknown architecture ${config.arch}`);
    this.config = config;
    this.trace = config.workload.kind === 'trace' ? parseTrace(config.workload.text, config.workload.file) : null;
    this.boot();
    this.forward();
  }

  /** The record of the step the live vm is at. */
  get current(): StepRecord {
    return this.records[this.position - 1];
  }

  /** The record before the current one (null at the first step). */
  get previous(): StepRecord | null {
    return this.position >= 2 ? this.records[this.position - 2] : null;
  }

  /** Runs the next step; false at the end of the workload. */
  forward(): boolean {
    if (this.ended && this.position >= this.records.length) return false;
    return this.take();
  }

  /** Goes back one step (by replay from boot); false at the first step. */
  back(): boolean {
    if (this.position <= 1) return false;
    this.goTo(this.position - 1);
    return true;
  }

  /** Runs every step left. */
  toEnd(): void {
    while (this.forward());
  }

  /** Puts the live vm at step `n` (1-based, clamped to the steps that exist): forward, or by replay from boot. */
  goTo(n: number): void {
    const target = Math.max(1, Math.floor(n));
    if (target < this.position) this.boot();
    while (this.position < target && this.forward());
  }

  private boot(): void {
    const { config } = this;
    this.session = new Session({ arch: ARCHES[config.arch], board: config.board, ramSize: config.ramSize });
    this.gen = this.trace === null ? scenarioSteps(this.session) : traceSteps(this.trace, this.session);
    this.position = 0;
    this.pmaps = new Map();
    this.lastStats = new Map();
  }

  /**
   * Takes one step on the live vm. A step already recorded is replayed: quietly for a trace (no invariant check, no
   * step built: it was checked when it first ran), except the last recorded one, which runs in full so that the
   * session's idea of the previous step is right for the steps after it. The scenario reads its previous step, so
   * it always runs in full (it is a dozen steps).
   */
  private take(): boolean {
    const k = this.position + 1;
    const replaying = k <= this.records.length;
    const t0 = performance.now();
    this.session.quiet = replaying && this.trace !== null && k < this.records.length;
    let r: IteratorResult<Step | null, void>;
    try {
      r = this.gen.next();
    } catch (e) {
      // A trace line that did not replay as written: the run ends there, with the reason shown.
      this.session.quiet = false;
      this.ended = true;
      this.failure = e instanceof Error ? e : new Error(String(e));
      return false;
    }
    this.session.quiet = false;
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.position = k;
    this.trackPmaps();
    if (replaying) return true;
    const step = r.value!;
    const vm = this.session.vm;
    const model = frameMapModel(vm.pageMap(), this.session.recorder.owners, vm.arch.pageSize, COLUMNS, MAX_CELLS, this.session.names);
    const cells = this.cellsOf(model);
    this.records.push({ index: k, step: { ...step, index: k }, model, cells, tlb: this.tlbTotals(), ms: performance.now() - t0 });
    return true;
  }

  /** Keeps every address space the run has had, so an exited one's TLB counts still add up. */
  private trackPmaps(): void {
    const vm = this.session.vm;
    for (const p of vm.processes()) if (!this.pmaps.has(p.pid)) this.pmaps.set(p.pid, vm.pmap(p.pid));
  }

  private tlbTotals(): TlbTotals {
    const out: TlbTotals = { hits: 0, misses: 0, flushes: 0 };
    for (const [pid, pmap] of this.pmaps) {
      let s = this.lastStats.get(pid);
      try {
        const st = pmap.stats();
        s = { hits: st.tlbHits, misses: st.tlbMisses, flushes: st.tlbFlushes };
        this.lastStats.set(pid, s);
      } catch {
        // A destroyed address space may refuse: its counts are the last ones read.
      }
      if (s !== undefined) (out.hits += s.hits), (out.misses += s.misses), (out.flushes += s.flushes);
    }
    return out;
  }

  /** The model's cells in address order, bands expanded, as kind indexes; the cell addresses on first use. */
  private cellsOf(model: FrameMapModel): Uint16Array {
    const per = model.framesPerCell * model.pageSize;
    const addrs: number[] = [];
    const kinds: number[] = [];
    const kindOf = (k: string): number => {
      let i = this.kindIndex.get(k);
      if (i === undefined) this.kindIndex.set(k, (i = this.kinds.length)), this.kinds.push(k);
      return i;
    };
    for (const row of model.rows) {
      if (row.type === 'cells') {
        row.cells.forEach((c, i) => (addrs.push(row.addr + i * per), kinds.push(kindOf(c))));
      } else if (row.type === 'band') {
        const k = kindOf(row.kind);
        for (let i = 0; i < row.rows * model.columns; i++) addrs.push(row.addr + i * per), kinds.push(k);
      }
    }
    if (this.cellAddrs.length === 0) this.cellAddrs = Float64Array.from(addrs);
    return Uint16Array.from(kinds);
  }

  /** Index of the frame-map cell holding physical address `pa`, or -1 when no cell does (a hole, off the board). */
  cellOf(pa: number): number {
    const a = this.cellAddrs;
    const per = this.current.model.framesPerCell * this.current.model.pageSize;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] <= pa) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && pa < a[hi] + per ? hi : -1;
  }

  /** Cells whose kind differs from the previous step's, and cells of frames this step's events name. */
  changedCells(): Set<number> {
    const out = new Set<number>();
    const cur = this.current;
    const prev = this.previous;
    if (prev !== null) for (let i = 0; i < cur.cells.length; i++) if (cur.cells[i] !== prev.cells[i]) out.add(i);
    for (const e of cur.step.events) {
      if ('pa' in e && typeof e.pa === 'number') {
        const c = this.cellOf(e.pa);
        if (c >= 0) out.add(c);
      }
      if (e.type === 'cow') {
        const c = this.cellOf(e.from);
        if (c >= 0) out.add(c);
      }
    }
    return out;
  }
}
