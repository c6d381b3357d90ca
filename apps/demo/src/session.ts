import { isVmError } from '@vmlayers/phys';
import type { PageMapRun, Pmap, PmapFactory, PmapTable } from '@vmlayers/phys';
import { createVm, formatMaps, formatMeminfo } from '@vmlayers/memobj';
import { MmuPmap } from '@vmlayers/pmap-mmu';
import type { PteLeaf } from '@vmlayers/pmap-mmu';
import { Armv8mPmap, MpuPmap, coveredBytes } from '@vmlayers/pmap-nommu';
import type { MapInfo, MemInfo, Process, ReclaimPolicy, Vm, VmEvent } from '@vmlayers/memobj';
import { narrate } from './narrate.js';
import { markerCounts, pageMapText } from './page-map.js';
import { Recorder } from './recorder.js';
import type { FrameOwner } from './recorder.js';
import type { Figure, Step } from './step.js';

export interface SessionOptions {
  arch: PmapFactory;
  /** A board preset name (default the architecture's). */
  board?: string;
  /** One RAM bank of this many bytes instead of a board. */
  ramSize?: number;
  /** Swap slots (pages): with `reclaim`, page reclaim is on (MMU architectures only). */
  swap?: number;
  /** The reclaim policy and resident limit (`createVm({ reclaim })`). */
  reclaim?: { policy?: string | ReclaimPolicy; limit?: number };
}

/** Where a trace replay is: the line under way and the trace's names (what `opt`'s future is read from). */
export interface ReplayCursor {
  /** Index in `trace.ops` of the line being replayed. */
  pos: number;
  procs: ReadonlyMap<string, Process | null>;
  regions: ReadonlyMap<string, ReadonlyMap<string, { addr: number; size: number } | null>>;
}

/** The state of memory at one moment, kept for the HTML report. */
export interface Snapshot {
  step: number;
  title: string;
  pageMap: PageMapRun[];
  owners: Map<number, FrameOwner>;
  maps: Record<number, MapInfo[]>;
  /** `formatMaps` of every live process then. */
  mapsText: Record<number, string>;
  /**
   * The page-table tree of the lowest live pid (its MPU regions without an MMU), and without an MMU the MPU slots
   * its address space enables, as programmed.
   */
  tables: { pid: number; tables: PmapTable[]; mpu: MpuSlot[] | null } | null;
  /** With an MMU, the present page-table leaves of every live process (`MmuPmap.leaves()`), by pid. */
  leaves: Record<number, PteLeaf[]>;
}

/**
 * One MPU region an address space enables: its slot and the fields programmed there, for either generation:
 * ARMv7-M (RBAR/RASR: power-of-two size, 3-bit AP, subregions) or ARMv8-M (RBAR/RLAR: base and limit at 32 bytes,
 * 2-bit AP, a MAIR memory type, no subregions).
 */
export interface MpuSlot {
  slot: number;
  base: number;
  /** Bytes the region spans (ARMv7-M: 2^(SIZE+1); ARMv8-M: limit + 32 - base). */
  size: number;
  /** The AP field as programmed: ARMv7-M RASR AP (one of `MpuAp`), ARMv8-M RBAR AP[2:1] (one of `Armv8mAp`). */
  ap: number;
  /** What AP allows, in words: `priv rw, user ro`. */
  access: string;
  xn: boolean;
  /** ARMv7-M subregion-disable mask (bit i disables the i-th eighth); null on ARMv8-M, which has none. */
  srd: number | null;
  /** ARMv8-M: the region's memory type from its MAIR attribute (`Device-nGnRE`, `Normal`); null on ARMv7-M. */
  memory: string | null;
  /** Bytes the region really covers: its size less its disabled subregions. */
  covered: number;
}

/** ARMv7-M RASR AP encodings: who may read and write (privileged / unprivileged). */
const V7_AP_TEXT: Readonly<Record<number, string>> = {
  0b000: 'no access',
  0b001: 'priv rw, user none',
  0b010: 'priv rw, user ro',
  0b011: 'priv rw, user rw',
  0b101: 'priv ro, user none',
  0b110: 'priv ro, user ro',
  0b111: 'priv ro, user ro',
};

/** ARMv8-M RBAR AP[2:1] encodings. */
const V8_AP_TEXT: Readonly<Record<number, string>> = {
  0b00: 'priv rw, user none',
  0b01: 'priv rw, user rw',
  0b10: 'priv ro, user none',
  0b11: 'priv ro, user ro',
};

/** What one step adds to the narration of its events. */
export interface StepInput {
  step: string;
  title: string;
  /** What the step did (before the events' narration). */
  what?: string[];
  /** Why it turned out so (after it). */
  why?: string[];
  /** The step's figures, or a function of its events that gives them. */
  figures?: Record<string, Figure> | ((events: readonly VmEvent[]) => Record<string, Figure>);
  error?: { code: string; message: string };
}

/**
 * A booted vm with the demo's event recorder, turning what happened since the previous step into a {@link Step}:
 * the events narrated, meminfo, the page map and every process's map (flagged when they changed), and `vm.check()`
 * run so that every step shows a consistent subsystem. Keeps the meminfo of every step and the moment of peak
 * allocation for the report.
 */
export class Session {
  readonly vm: Vm;
  readonly arch: PmapFactory;
  readonly pageSize: number;
  readonly recorder = new Recorder();
  readonly timeline: { step: number; title: string; meminfo: MemInfo }[] = [];
  peak: Snapshot | null = null;
  /** The step emitted last (null before the first). */
  last: Step | null = null;
  /** The names a trace gives processes, by pid (the report shows them beside pids). */
  readonly names = new Map<number, string>();
  /**
   * Steps record nothing: no invariant check, no snapshot, no narration, nothing emitted. For long runs whose steps
   * nobody reads (`--capacity`, which checks the invariants once per replay instead), where checking and building
   * every process's maps at every line would cost O(n²).
   */
  quiet = false;
  /** Page faults served (`fault` events without a `result`) since boot, quiet steps included. */
  faults = 0;
  /** Set by `replayTrace` while a trace replays. */
  cursor: ReplayCursor | null = null;
  private index = 0;
  private prevPageMap = '';
  private prevMaps = new Map<number, string>();
  private emit: (s: Step) => void;

  constructor(options: SessionOptions, emit: (s: Step) => void = () => {}) {
    this.arch = options.arch;
    this.pageSize = options.arch.pageSize;
    const listener = this.recorder.listener;
    const onEvent = (e: VmEvent): void => {
      if (e.type === 'fault' && e.result === undefined) this.faults++;
      listener(e);
    };
    this.vm = createVm({
      arch: options.arch,
      board: options.board,
      ramSize: options.ramSize,
      onEvent,
      ...(options.swap !== undefined ? { swap: { pages: options.swap } } : {}),
      ...(options.reclaim !== undefined ? { reclaim: options.reclaim } : {}),
    });
    this.emit = emit;
  }

  /** Where steps go from now on (in place of the constructor's `emit`). */
  onStep(emit: (s: Step) => void): void {
    this.emit = emit;
  }

  /** Ends a step: checks every layer's invariants, builds the step and emits it. */
  step(input: StepInput): Step | null {
    const vm = this.vm;
    if (this.quiet) {
      this.recorder.take();
      return null;
    }
    vm.check();
    const events = this.recorder.take();
    const meminfo = vm.meminfo();
    const runs = vm.pageMap();
    const pageMap = pageMapText(runs, this.pageSize);
    const maps: Record<number, MapInfo[]> = {};
    const mapsText: Record<number, string> = {};
    const mapsChanged: number[] = [];
    const now = new Map<number, string>();
    for (const p of vm.processes()) {
      maps[p.pid] = vm.maps(p.pid);
      mapsText[p.pid] = formatMaps(vm, p.pid);
      const key = JSON.stringify(maps[p.pid]);
      now.set(p.pid, key);
      if (this.prevMaps.get(p.pid) !== key) mapsChanged.push(p.pid);
    }
    this.prevMaps = now;
    const s: Step = {
      index: ++this.index,
      step: input.step,
      title: input.title,
      text: [...(input.what ?? []), ...narrate(events), ...(input.why ?? [])],
      events,
      meminfo,
      meminfoText: formatMeminfo(vm),
      pageMap,
      frames: markerCounts(runs, this.pageSize),
      pageMapChanged: pageMap !== this.prevPageMap,
      maps,
      mapsText,
      mapsChanged,
      figures: typeof input.figures === 'function' ? input.figures(events) : (input.figures ?? {}),
    };
    if (input.error) s.error = input.error;
    this.prevPageMap = pageMap;
    this.timeline.push({ step: s.index, title: s.title, meminfo });
    if (this.peak === null || meminfo.page.alloc > this.allocAt(this.peak)) {
      this.peak = { step: s.index, title: s.title, pageMap: runs, owners: new Map(this.recorder.owners), maps, mapsText, tables: this.tablesOfFirst(), leaves: this.leaves() };
    }
    this.last = s;
    this.emit(s);
    return s;
  }

  private allocAt(snap: Snapshot): number {
    return this.timeline[snap.step - 1].meminfo.page.alloc;
  }

  private leaves(): Record<number, PteLeaf[]> {
    const out: Record<number, PteLeaf[]> = {};
    for (const p of this.vm.processes()) {
      const pmap = this.vm.pmap(p.pid);
      if (pmap instanceof MmuPmap) out[p.pid] = pmap.leaves();
    }
    return out;
  }

  private tablesOfFirst(): Snapshot['tables'] {
    const p = this.vm.processes()[0];
    if (p === undefined) return null;
    return { pid: p.pid, tables: this.vm.tables(p.pid), mpu: mpuSlots(this.vm.pmap(p.pid)) };
  }
}

/**
 * The MPU slots an address space enables and the MPU has programmed, with every RBAR/RASR field: what `tables()`
 * lists without an MMU. Null for a pmap without an MPU.
 */
export function mpuSlots(pmap: Pmap): MpuSlot[] | null {
  if (pmap instanceof MpuPmap) {
    const out: MpuSlot[] = [];
    const m = pmap.regionMask & pmap.mpu.programmedMask;
    for (let slot = 0; slot < pmap.mpu.regionCount; slot++) {
      const r = ((m >>> slot) & 1) === 1 ? pmap.mpu.region(slot) : undefined;
      if (r === undefined) continue;
      out.push({ slot, base: r.base, size: r.size, ap: r.ap, access: V7_AP_TEXT[r.ap] ?? '?', xn: r.xn, srd: r.srd, memory: null, covered: coveredBytes(r.size, r.srd) });
    }
    return out;
  }
  if (pmap instanceof Armv8mPmap) {
    const out: MpuSlot[] = [];
    const m = pmap.regionMask & pmap.mpu.programmedMask;
    for (let slot = 0; slot < pmap.mpu.regionCount; slot++) {
      const r = ((m >>> slot) & 1) === 1 ? pmap.mpu.region(slot) : undefined;
      if (r === undefined) continue;
      const a = pmap.mpu.attribute(r.attrIndx);
      const size = r.limit + 32 - r.base;
      out.push({ slot, base: r.base, size, ap: r.ap, access: V8_AP_TEXT[r.ap] ?? '?', xn: r.xn, srd: null, memory: a.type === 'device' ? `Device-${a.device}` : 'Normal', covered: size });
    }
    return out;
  }
  return null;
}

/** Runs `f`; a `VmError` is returned as `{ code, message }`, anything else propagates. */
export function attempt<T>(f: () => T): { ok: true; value: T } | { ok: false; code: string; message: string } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (isVmError(e)) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}
