import { FAULT_SITES, MapFlags, Prot, isVmError } from '@vmlayers/phys';
import type { FaultSite, PmapFactory } from '@vmlayers/phys';
import { createVm } from '../../src/index.js';
import type { Image, Process, Vm, VmObject } from '../../src/index.js';
import { forkPage, pageContent, pageTarget } from './model.js';
import type { HeldObject, ObjModel, PageModel, ProcModel } from './model.js';
import { Rng } from './rng.js';

/*
 * The whole-stack model driver (issue 12 §4): random operations on the public `Vm` API — spawn, fork, mmap of every
 * kind, munmap/mprotect of arbitrary ranges, multi-page reads and writes at arbitrary addresses, exit, objects made
 * and released, injected allocation failures — each checked against a shadow model (./model.ts) of what every
 * mapped byte reads and what every mapped page's protection, flags and object are. After every step: `vm.check()`
 * (every `checkEvery` steps), `vm.maps()` of the processes touched against the model, and reads of sampled pages.
 * A refused operation must throw a `VmError` with the errno the model predicts; `ENOMEM` is accepted wherever an
 * allocation happens on a board that can run out or while a failure is injected, and the model must still hold.
 * `drain()` ends an epoch: every process exits, every object is released, and free frames and kmalloc bytes must
 * equal their post-boot values exactly. No vitest here: the soak (../../soak/run.ts) runs the same driver.
 */

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;
const RW = Prot.READ | Prot.WRITE;
const RX = Prot.READ | Prot.EXEC;
/** The entry flags the model keeps (NEEDSCOPY comes and goes with fork and copy). */
const FLAG_MASK = MapFlags.SHARED | MapFlags.PRIVATE | MapFlags.NOINHERIT | MapFlags.UNCACHED;
const hex = (n: number): string => (n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);

/** A board to run on. */
export interface BoardConfig {
  /** For reports: `default`, `ram 256 KiB`, … */
  label: string;
  board?: string;
  ramSize?: number;
  /** Memory runs out here: ENOMEM is accepted from any allocating operation. */
  tiny: boolean;
}

/** The boards of an architecture: its default board, and tiny ones where memory runs out by itself. */
export function boardsFor(arch: PmapFactory): BoardConfig[] {
  const kib = (n: number): BoardConfig => ({ label: `ram ${n} KiB`, ramSize: n * 1024, tiny: true });
  switch (arch.name) {
    case 'sv39':
      // Boots from 28 KiB (7 pages: tables and the kernel heap, nothing free); 192 KiB leaves 41 free pages.
      return [{ label: 'default', tiny: false }, kib(192), kib(512)];
    case 'aarch64':
      // As Sv39, one table level more: seven table pages boot the kernel half (root, levels 1 and 2, four level-3).
      return [{ label: 'default', tiny: false }, kib(192), kib(512)];
    case 'armv7a':
      // A 16 KiB TTBR1 table and two frames of level-2 tables boot the kernel half; user roots take 8 KiB each.
      return [{ label: 'default', tiny: false }, kib(192), kib(512)];
    case 'ia32':
      // The kernel half's tables alone take 1 MiB + 8 KiB (258 pages boot with nothing free).
      return [{ label: 'default', tiny: false }, kib(1224), kib(1536)];
    default:
      // armv7m and armv8m: stm32-512k and cortex-m33-256k are their default boards; 2 pages boot with nothing free.
      return [{ label: 'default', tiny: false }, kib(32), kib(128)];
  }
}

export interface DriverOptions {
  arch: PmapFactory;
  board: BoardConfig;
  seed: number;
  /** Arm `failAt`/`failAfter` between operations. */
  faults: boolean;
  /** `vm.check()` and a full maps comparison every this many steps (1: every step). */
  checkEvery?: number;
  /** Pages read back and compared after every step. */
  samples?: number;
  /** Operations kept for the failure report. */
  traceLength?: number;
  /** The operation mix (`mixed`, `forks`, `churn`); default by seed. */
  profile?: string;
  /** Swap slots: reclaim on (the default policy), so a working set larger than RAM runs; 0: none. */
  swap?: number;
  /** Map entries in the pool (`createVm({ entries })`); 0: the default, one per 3 free pages. */
  entries?: number;
}

/** What a run did, summed over epochs. */
export interface DriverStats {
  ops: number;
  byOp: Record<string, number>;
  /** Refused operations by errno (expected refusals and ENOMEM). */
  refused: Record<string, number>;
  /** Of those, ENOMEM because memory ran out (naturally or injected), not a hole given to mprotect. */
  outOfMemory: number;
  /** Injected failures that fired, in total and by armed site (`failAfter` for the budget mode). */
  injectedFired: number;
  firedBy: Record<string, number>;
  spawned: number;
  forked: number;
  exited: number;
  /** Multi-page writes that failed with ENOMEM after writing some pages. */
  partialWrites: number;
  checks: number;
  epochs: number;
}

/** Zeroed {@link DriverStats}, to add runs into. */
export function emptyStats(): DriverStats {
  return { ops: 0, byOp: {}, refused: {}, outOfMemory: 0, injectedFired: 0, firedBy: {}, spawned: 0, forked: 0, exited: 0, partialWrites: 0, checks: 0, epochs: 0 };
}

/** Adds the stats of one run into `total`: counts summed, per-key records merged. */
export function addStats(total: DriverStats, s: DriverStats): void {
  for (const k of ['ops', 'outOfMemory', 'injectedFired', 'spawned', 'forked', 'exited', 'partialWrites', 'checks', 'epochs'] as const) total[k] += s[k];
  for (const k of ['byOp', 'refused', 'firedBy'] as const) for (const [key, v] of Object.entries(s[k])) total[k][key] = (total[k][key] ?? 0) + v;
}

/** A defect or a model mismatch, with the seed and the last operations. */
export class ModelFailure extends Error {
  override name = 'ModelFailure';
}

interface Template {
  image: Image;
  segs: { vaddr: number; pages: number; prot: number; obj: ObjModel | null }[];
}

interface Attempt<T> {
  code: string | undefined;
  value: T | undefined;
  /** A failure was armed when the call started. */
  armed: boolean;
}

const TEMPLATE_SHAPES: { pages: number; prot: number; data: number | null }[][] = [
  // text with data, data shorter than its segment (bss in its last page and past it), a bss segment
  [
    { pages: 2, prot: RX, data: 2 },
    { pages: 3, prot: RW, data: 1.5 },
    { pages: 1, prot: RW, data: null },
  ],
  // a small text, a read-only segment whose data nearly fills it, an RWX segment with empty data
  [
    { pages: 1, prot: RX, data: 0.05 },
    { pages: 4, prot: Prot.READ, data: 3.99 },
    { pages: 2, prot: RWX, data: 0 },
  ],
  // execute-only text, a write-only segment, a larger bss
  [
    { pages: 3, prot: Prot.EXEC, data: 3 },
    { pages: 1, prot: Prot.WRITE, data: 0.01 },
    { pages: 6, prot: RW, data: null },
  ],
];

const OPS = [
  'spawn',
  'fork',
  'exit',
  'mmap',
  'munmap',
  'mprotect',
  'write',
  'read',
  'createObject',
  'release',
  'sync',
  'createPhys',
  'exited',
] as const;
type OpName = (typeof OPS)[number];
/** Operation mixes: the driver takes one by its seed (`seed % 3`) unless told. */
const PROFILES: Record<string, Record<OpName, number>> = {
  mixed: { spawn: 3, fork: 3, exit: 2, mmap: 14, munmap: 7, mprotect: 7, write: 16, read: 10, createObject: 2, release: 1.5, sync: 0.5, createPhys: 1, exited: 0.3 },
  // Deep fork trees with copy-on-write traffic.
  forks: { spawn: 1.5, fork: 7, exit: 4, mmap: 8, munmap: 3, mprotect: 4, write: 22, read: 12, createObject: 1, release: 0.7, sync: 0.3, createPhys: 0.5, exited: 0.2 },
  // Entries cut, merged, replaced and protected; objects come and go.
  churn: { spawn: 2, fork: 2, exit: 1.5, mmap: 20, munmap: 14, mprotect: 14, write: 9, read: 6, createObject: 4, release: 3, sync: 1, createPhys: 2, exited: 0.3 },
};
export const PROFILE_NAMES = Object.keys(PROFILES);

/** Pages of the physical range the driver allocates (with `vm.alloc`) for physical objects. */
const PHYS_PAGES = 4;
/** Pages of the MMU address window random addresses fall in, from the bottom of the user range. */
const WINDOW = 2048;

export class StackDriver {
  readonly vm: Vm;
  readonly arch: PmapFactory;
  readonly opts: Required<DriverOptions>;
  readonly stats: DriverStats;
  private readonly rng: Rng;
  private readonly weights: number[];
  private readonly ps: number;
  private readonly mmu: boolean;
  private readonly execProtect: boolean;
  private readonly lo: number;
  private readonly hi: number;
  private readonly ramBase: number;
  private readonly ramPages: number;
  private readonly zero: Uint8Array;
  private readonly baseline: { free: number; kmalloc: number };
  private readonly templates: Template[];
  private readonly maxProcs: number;
  private procs: ProcModel[] = [];
  private exitedProcs: Process[] = [];
  private held: HeldObject[] = [];
  private releasedObjs: VmObject[] = [];
  private phys: { pa: number; bytes: Uint8Array } | null = null;
  // No MMU: where each object's block is (object ids are never reused).
  private readonly blocks = new Map<number, number>();
  private touched = new Set<ProcModel>();
  // Copy-on-write events of the operation under way.
  private cows: { pid: number; va: number }[] = [];
  private step0 = 0;
  // Trace of the last operations, for failure reports.
  private readonly trace: string[] = [];
  private traceAt = 0;
  // Fault injection state.
  private armedSite: FaultSite | null = null;
  private armedAge = 0;
  private budgetLeft = 0;
  private lastFailed = 0;
  private siteCursor = 0;

  constructor(options: DriverOptions) {
    this.opts = { checkEvery: 1, samples: 2, traceLength: 64, profile: PROFILE_NAMES[options.seed % PROFILE_NAMES.length], swap: 0, entries: 0, ...options };
    const { arch, board } = this.opts;
    this.arch = arch;
    const where = board.ramSize !== undefined ? { ramSize: board.ramSize } : board.board !== undefined ? { board: board.board } : {};
    // Copy-on-write events tell which private pages got a copy of their own (a write that runs out of memory may
    // keep the copies it made before failing, and a copy no longer follows its object).
    const reclaim = this.opts.swap > 0 ? { swap: { pages: this.opts.swap }, reclaim: {} } : {};
    const entries = this.opts.entries > 0 ? { entries: this.opts.entries } : {};
    this.vm = createVm({ arch, ...where, ...reclaim, ...entries, onEvent: (e) => void (e.type === 'cow' && this.cows.push(e)) });
    this.baseline = this.footprint();
    this.rng = new Rng(options.seed);
    const mix = PROFILES[this.opts.profile];
    if (mix === undefined) throw new Error(`profile must be one of ${PROFILE_NAMES.join(', ')}, got ${this.opts.profile}`);
    this.weights = OPS.map((o) => mix[o]);
    this.ps = arch.pageSize;
    this.mmu = arch.capabilities.hasMmu;
    // An execute-only mapping reads where the hardware reads what it executes (ia32, ARMv7-A).
    this.execProtect = arch.capabilities.execProtect && arch.capabilities.execImpliesRead !== true;
    [this.lo, this.hi] = arch.userRange;
    const ram = this.vm.board.regions.filter((r) => r.kind === 'ram').sort((a, b) => a.base - b.base)[0];
    this.ramBase = ram.base;
    this.ramPages = Math.floor(ram.size / this.ps);
    this.zero = new Uint8Array(this.ps);
    this.maxProcs = board.tiny ? 4 : 6;
    this.templates = TEMPLATE_SHAPES.map((shape, t) => this.template(shape, t));
    this.stats = {
      ops: 0,
      byOp: Object.fromEntries(OPS.map((o) => [o, 0])),
      refused: {},
      outOfMemory: 0,
      injectedFired: 0,
      firedBy: {},
      spawned: 0,
      forked: 0,
      exited: 0,
      partialWrites: 0,
      checks: 0,
      epochs: 0,
    };
    this.begin();
  }

  /** Free frames and kmalloc bytes now. */
  footprint(): { free: number; kmalloc: number } {
    const m = this.vm.meminfo();
    return { free: m.page.free, kmalloc: m.kmalloc.used };
  }

  /** One random operation, checked against the model, then the checks after every step. */
  step(): void {
    const i = ++this.step0;
    this.stats.ops++;
    this.touched.clear();
    this.armFaults();
    const op = OPS[this.rng.weighted(this.weights)];
    this.stats.byOp[op]++;
    this[op]();
    this.verify(i % this.opts.checkEvery === 0);
    this.countFired();
  }

  /**
   * Ends an epoch: failures disarmed, every process exits, every object is released, the physical range freed;
   * then `vm.check()` and conservation. Returns the leaks found (empty when none); the next step starts a new epoch.
   */
  drain(): string[] {
    this.countFired();
    this.vm.faults.reset();
    this.lastFailed = 0;
    this.armedSite = null;
    this.budgetLeft = 0;
    for (const m of this.procs) {
      const r = this.attempt(`p${m.pid}.exit()`, () => m.proc.exit());
      this.expect(`p${m.pid}.exit()`, r, undefined, false);
    }
    this.procs = [];
    this.exitedProcs = [];
    for (const h of this.held) {
      const r = this.attempt(`${this.objName(h.handle)}.release()`, () => h.handle.release());
      this.expect('release', r, undefined, false);
    }
    this.held = [];
    this.releasedObjs = [];
    this.blocks.clear();
    if (this.phys !== null) {
      this.vm.alloc.freePa(this.phys.pa);
      this.log(`vm.alloc.freePa(${hex(this.phys.pa)})`);
      this.phys = null;
    }
    this.check();
    this.stats.epochs++;
    const leaks: string[] = [];
    const now = this.footprint();
    if (now.free !== this.baseline.free) leaks.push(`free frames ${now.free} B, post-boot ${this.baseline.free} B (${this.baseline.free - now.free} B lost)`);
    if (now.kmalloc !== this.baseline.kmalloc) leaks.push(`kmalloc used ${now.kmalloc} B, post-boot ${this.baseline.kmalloc} B`);
    const objs = this.vm.objects();
    if (objs.length > 0) leaks.push(`objects still alive: ${objs.map((o) => `${o.id} ${o.name} refs ${o.refs}`).join(', ')}`);
    if (this.vm.processes().length > 0) leaks.push(`processes still alive: ${this.vm.processes().map((p) => p.pid).join(', ')}`);
    const swap = this.vm.meminfo().swap;
    if (swap !== undefined && swap.free !== swap.total) leaks.push(`swap slots still used: ${(swap.total - swap.free) / this.ps}`);
    this.begin();
    return leaks;
  }

  /** The last operations, oldest first. */
  recentOps(): string[] {
    const n = this.trace.length;
    return n < this.opts.traceLength ? [...this.trace] : [...this.trace.slice(this.traceAt), ...this.trace.slice(0, this.traceAt)];
  }

  // --- set-up ---------------------------------------------------------------------------------------------------

  private begin(): void {
    // A physical range for createPhysObject: allocated frames (never free ones), zeroed when handed out.
    const pa = this.vm.alloc.allocPa(PHYS_PAGES * this.ps);
    if (pa >= 0) {
      this.phys = { pa, bytes: new Uint8Array(PHYS_PAGES * this.ps) };
      this.log(`phys = vm.alloc.allocPa(${hex(PHYS_PAGES * this.ps)}) → ${hex(pa)}`);
    }
  }

  private template(shape: (typeof TEMPLATE_SHAPES)[number], t: number): Template {
    const ps = this.ps;
    const segs: Template['segs'] = [];
    const segments: Image['segments'] = [];
    shape.forEach((s, i) => {
      const vaddr = 0x400000 + (t * 64 + i * 16) * ps;
      const data = s.data === null ? undefined : this.rng.bytes(Math.round(s.data * ps));
      let obj: ObjModel | null = null;
      if (data !== undefined && data.length > 0) {
        const pages = Math.ceil(data.length / ps);
        const bytes = new Uint8Array(pages * ps);
        bytes.set(data);
        obj = { name: '[image]', bytes, pages, key: (p) => `img${t}.${i}:${p}` };
      }
      const size = s.pages * ps - (data === undefined || data.length < s.pages * ps - 3 ? 3 : 0);
      segments.push({ vaddr, size, prot: s.prot, ...(data === undefined ? {} : { data }) });
      segs.push({ vaddr, pages: s.pages, prot: s.prot, obj });
    });
    return { image: { segments }, segs };
  }

  // --- operations -------------------------------------------------------------------------------------------------

  private spawn(): void {
    if (this.procs.length >= this.maxProcs) return this.exit();
    const t = this.rng.int(this.templates.length);
    const tpl = this.templates[t];
    const r = this.attempt(`vm.spawn(T${t})`, () => this.vm.spawn(tpl.image));
    if (!this.expect(`vm.spawn(T${t})`, r, undefined, true)) return;
    const proc = r.value!;
    this.log(`  p${proc.pid} = that process`);
    if (this.procs.some((m) => m.pid === proc.pid)) this.fail(`spawn returned pid ${proc.pid}, which is live`);
    const m: ProcModel = { proc, pid: proc.pid, pages: new Map() };
    const maps = this.mmu ? [] : this.vm.maps(proc.pid);
    if (!this.mmu && maps.length !== tpl.segs.length) this.fail(`spawn(T${t}) without an MMU: ${maps.length} entries for ${tpl.segs.length} segments`);
    tpl.segs.forEach((s, si) => {
      let va = s.vaddr;
      if (!this.mmu) {
        const e = maps.filter((x) => (x.end - x.start) / this.ps === s.pages);
        if (e.length !== 1) this.fail(`spawn(T${t}): no single entry of ${s.pages} pages for segment ${si}: ${this.formatMaps(proc.pid)}`);
        va = e[0].start;
      }
      const obj = s.obj;
      const copyOnMap = !this.mmu && obj !== null && ((s.prot & Prot.WRITE) !== 0 || s.pages > obj.pages);
      const sharesBlock = !this.mmu && obj !== null && !copyOnMap;
      for (let i = 0; i < s.pages; i++) {
        const p: PageModel = {
          prot: s.prot,
          maxProt: sharesBlock ? RX : RWX,
          flags: MapFlags.PRIVATE,
          name: obj === null ? '[anon]' : obj.name,
          obj,
          objPage: obj === null ? -1 : i,
          shared: false,
          own: null,
          key: sharesBlock ? obj!.key(i) : null,
        };
        if (copyOnMap) p.own = pageContent(p, this.ps, this.zero).slice();
        m.pages.set(va + i * this.ps, p);
      }
    });
    this.procs.push(m);
    this.touched.add(m);
    this.stats.spawned++;
  }

  private fork(): void {
    const m = this.pickProc();
    if (m === undefined) return;
    if (this.procs.length >= this.maxProcs) return this.exit();
    const desc = `p${m.pid}.fork()`;
    const r = this.attempt(desc, () => m.proc.fork());
    if (!this.mmu) {
      this.expect(desc, r, 'ENOSYS', false);
      return;
    }
    this.touched.add(m);
    if (!this.expect(desc, r, undefined, true)) return;
    const proc = r.value!;
    this.log(`  p${proc.pid} = that child`);
    if (this.procs.some((x) => x.pid === proc.pid)) this.fail(`fork returned pid ${proc.pid}, which is live`);
    const c: ProcModel = { proc, pid: proc.pid, pages: new Map() };
    for (const [va, p] of m.pages) if (!(p.flags & MapFlags.NOINHERIT)) c.pages.set(va, forkPage(p));
    this.procs.push(c);
    this.touched.add(c);
    this.stats.forked++;
  }

  private exit(): void {
    const m = this.pickProc();
    if (m === undefined) return;
    const r = this.attempt(`p${m.pid}.exit()`, () => m.proc.exit());
    this.expect(`p${m.pid}.exit()`, r, undefined, false);
    this.procs.splice(this.procs.indexOf(m), 1);
    this.exitedProcs.push(m.proc);
    if (this.exitedProcs.length > 4) this.exitedProcs.shift();
    this.stats.exited++;
  }

  // A process after exit: every call → EINVAL.
  private exited(): void {
    if (this.exitedProcs.length === 0) return;
    const p = this.rng.pick(this.exitedProcs);
    const ps = this.ps;
    const calls: [string, () => unknown][] = [
      [`p${p.pid}.read(${hex(this.lo)}, 1)`, () => p.read(this.lo, 1)],
      [`p${p.pid}.write(${hex(this.lo)}, [1])`, () => p.write(this.lo, new Uint8Array([1]))],
      [`p${p.pid}.mmap({ size: ${ps} })`, () => p.mmap({ size: ps, prot: RW, flags: MapFlags.PRIVATE })],
      [`p${p.pid}.munmap(${hex(this.lo)}, ${ps})`, () => p.munmap(this.lo, ps)],
      [`p${p.pid}.mprotect(${hex(this.lo)}, ${ps}, RW)`, () => p.mprotect(this.lo, ps, RW)],
      [`p${p.pid}.fork()`, () => p.fork()],
      [`p${p.pid}.exit()`, () => p.exit()],
    ];
    const [desc, fn] = this.rng.pick(calls);
    this.expect(desc, this.attempt(desc, fn), 'EINVAL', false);
  }

  private createObject(): void {
    if (this.held.filter((h) => h.kind === 'pager').length >= 4) return this.release();
    let len = this.rng.range(1, 6 * this.ps);
    // With reclaim a pager's page can be evicted, written back and read again: bytes written past the object's
    // end in its last page are lost then, as past a file's end (the pager keeps `size()` bytes). Whole pages keep
    // the model simple.
    if (this.opts.swap > 0) len = Math.ceil(len / this.ps) * this.ps;
    const data = this.rng.bytes(len);
    const desc = `vm.createObject(bytes(${len}))`;
    const source = data.slice();
    const r = this.attempt(desc, () => this.vm.createObject(source));
    if (!this.expect(desc, r, undefined, true)) return;
    const handle = r.value!;
    this.log(`  o${handle.id} = that object`);
    const pages = Math.ceil(len / this.ps);
    const bytes = new Uint8Array(pages * this.ps);
    bytes.set(data);
    const id = handle.id;
    this.held.push({ handle, kind: 'pager', pa: -1, source, model: { name: '[bytes]', bytes, pages, key: (p) => `o${id}:${p}` } });
  }

  private createPhys(): void {
    const ps = this.ps;
    if (this.phys === null || this.held.filter((h) => h.kind === 'phys').length >= 2) return this.release();
    const o = this.rng.int(PHYS_PAGES);
    const n = this.rng.range(1, PHYS_PAGES - o);
    const size = n * ps - (this.rng.chance(0.3) ? this.rng.int(ps) : 0);
    const pa = this.phys.pa + o * ps;
    if (this.rng.chance(0.05)) {
      const desc = `vm.createPhysObject(${hex(pa + 8)}, ${hex(size)})`;
      this.expect(desc, this.attempt(desc, () => this.vm.createPhysObject(pa + 8, size)), 'EINVAL', false);
      return;
    }
    const desc = `vm.createPhysObject(phys + ${hex(o * ps)}, ${hex(size)})`;
    const r = this.attempt(desc, () => this.vm.createPhysObject(pa, size));
    if (!this.expect(desc, r, undefined, true)) return;
    const handle = r.value!;
    this.log(`  o${handle.id} = that object`);
    const bytes = this.phys.bytes.subarray(o * ps, (o + n) * ps);
    this.held.push({ handle, kind: 'phys', pa, source: null, model: { name: `[phys ${hex(pa)}]`, bytes, pages: n, key: (p) => `phys:${o + p}` } });
  }

  private release(): void {
    if (this.releasedObjs.length > 0 && this.rng.chance(0.15)) {
      const o = this.rng.pick(this.releasedObjs);
      const desc = `${this.objName(o)}.release() again`;
      this.expect(desc, this.attempt(desc, () => o.release()), 'EINVAL', false);
      return;
    }
    if (this.held.length === 0) return;
    const h = this.rng.pick(this.held);
    const desc = `${this.objName(h.handle)}.release()`;
    this.expect(desc, this.attempt(desc, () => h.handle.release()), undefined, false);
    this.held.splice(this.held.indexOf(h), 1);
    this.releasedObjs.push(h.handle);
    if (this.releasedObjs.length > 4) this.releasedObjs.shift();
  }

  private sync(): void {
    const pagers = this.held.filter((h) => h.kind === 'pager');
    if (pagers.length === 0) return;
    const h = this.rng.pick(pagers);
    const desc = `${this.objName(h.handle)}.sync()`;
    this.expect(desc, this.attempt(desc, () => h.handle.sync()), undefined, false);
    // Every page written through a SHARED mapping is back in the pager's array; the others never changed.
    const src = h.source!;
    const want = h.model.bytes.subarray(0, src.length);
    if (!equal(src, want)) {
      let i = 0;
      while (src[i] === want[i]) i++;
      this.fail(`${desc}: the pager's byte ${hex(i)} is ${src[i]}, the object's is ${want[i]}`);
    }
  }

  private mmap(): void {
    const m = this.pickProc();
    if (m === undefined) return;
    this.touched.add(m);
    const ps = this.ps;
    const rng = this.rng;
    if (m.pages.size > 320) return this.munmapIn(m, true);
    // anon private, anon shared, object private, object shared, phys private, phys shared
    const kind = rng.weighted([4, 2, 3, 2, 1, 1]);
    const shared = kind % 2 === 1;
    let h: HeldObject | undefined;
    if (kind >= 2) {
      const pool = this.held.filter((x) => x.kind === (kind >= 4 ? 'phys' : 'pager'));
      if (pool.length > 0) h = rng.pick(pool);
    }
    let pages = rng.chance(0.1) ? rng.range(9, 48) : rng.range(1, 8);
    let offPage = 0;
    if (h !== undefined) {
      pages = Math.min(pages, h.model.pages);
      offPage = rng.int(h.model.pages - pages + 1);
    }
    const size = pages * ps - (rng.chance(0.3) ? rng.int(ps) : 0);
    const prot = rng.int(8);
    let flags = shared ? MapFlags.SHARED : MapFlags.PRIVATE;
    if (rng.chance(0.15)) flags |= MapFlags.NOINHERIT;
    if (rng.chance(0.1)) flags |= MapFlags.UNCACHED;
    if (h === undefined && rng.chance(0.3)) flags |= MapFlags.ANONYMOUS;
    const opts: { addr?: number; size: number; prot: number; flags: number; object?: VmObject; offset?: number } = { size, prot, flags };
    if (h !== undefined) {
      opts.object = h.handle;
      if (offPage !== 0 || rng.chance(0.5)) opts.offset = offPage * ps;
    }
    let want: string | undefined;
    let fixed = false;
    const where = rng.int(10);
    if (where < 3) {
      // FIXED: over whatever is there (with an MMU); refused without one.
      fixed = true;
      opts.flags |= MapFlags.FIXED;
      opts.addr = this.mmu ? this.anchor(m) : this.ramBase + rng.int(this.ramPages) * ps;
      if (!this.mmu) want = 'EINVAL';
      else if (opts.addr < this.lo || opts.addr + pages * ps > this.hi) want = 'EINVAL';
    } else if (where < 5) {
      opts.addr = this.mmu ? this.lo + rng.int(WINDOW) * ps : this.ramBase + rng.int(this.ramPages) * ps;
    }
    if (want === undefined && rng.chance(0.05)) {
      // One bad argument, and nothing may change.
      const bad = rng.int(11);
      if (bad === 0 && this.releasedObjs.length > 0) {
        opts.object = rng.pick(this.releasedObjs);
        delete opts.offset;
        opts.flags &= ~MapFlags.ANONYMOUS;
        want = 'EINVAL';
      } else if (bad === 1) [opts.flags, want] = [opts.flags | MapFlags.PHYSMEM, 'EPERM'];
      else if (bad === 2) [opts.flags, want] = [opts.flags | MapFlags.DEVICE, 'EPERM'];
      else if (bad === 3) [opts.flags, want] = [opts.flags | MapFlags.SHARED | MapFlags.PRIVATE, 'EINVAL'];
      else if (bad === 4) [opts.flags, want] = [opts.flags & ~(MapFlags.SHARED | MapFlags.PRIVATE), 'EINVAL'];
      else if (bad === 5) [opts.flags, want] = [opts.flags | MapFlags.NEEDSCOPY, 'EINVAL'];
      // CONTIGUOUS is SHARED only (its block is never copied): a private one is refused.
      else if (bad === 6) [opts.flags, want] = [(opts.flags & ~MapFlags.SHARED) | MapFlags.PRIVATE | MapFlags.CONTIGUOUS, 'EINVAL'];
      else if (bad === 7 && h !== undefined) [opts.flags, want] = [opts.flags | MapFlags.ANONYMOUS, 'EINVAL'];
      else if (bad === 8 && h !== undefined) [opts.offset, want] = [(h.model.pages - pages + 1) * ps, 'EINVAL'];
      else if (bad === 8) [opts.offset, want] = [ps, 'EINVAL'];
      else if (bad === 9) [opts.addr, want] = [(opts.addr ?? this.ramBase + ps) + 8, 'EINVAL'];
      else if (bad === 10) [opts.prot, want] = [0x10, 'EINVAL'];
    }
    const len = pages * ps;
    const sharesBlock = !this.mmu && h !== undefined && (shared || !(prot & Prot.WRITE));
    if (want === undefined && sharesBlock) {
      // Without an MMU an object's block has one address: a process maps each of its pages once.
      const keys = new Set<string>();
      for (let i = 0; i < pages; i++) keys.add(h!.model.key(offPage + i));
      for (const p of m.pages.values()) if (p.key !== null && keys.has(p.key)) want = 'EEXIST';
    }
    const desc = `p${m.pid}.mmap(${this.formatOpts(opts)})`;
    const r = this.attempt(desc, () => m.proc.mmap(opts));
    if (!this.expect(desc, r, want, true)) return;
    const va = r.value!;
    this.log(`  → ${hex(va)}`);
    if (va % ps !== 0) this.fail(`${desc} returned unaligned ${hex(va)}`);
    if (fixed && va !== opts.addr) this.fail(`${desc}: FIXED mapping placed at ${hex(va)}`);
    if (sharesBlock) {
      // Without an MMU every process maps an object's one block: a physical object's is its range.
      const base = h!.kind === 'phys' ? h!.pa : (this.blocks.get(h!.handle.id) ?? va - offPage * ps);
      if (va !== base + offPage * ps) this.fail(`${desc}: object block at ${hex(base)}, mapped at ${hex(va)} for offset ${hex(offPage * ps)}`);
      this.blocks.set(h!.handle.id, base);
    }
    for (let a = va; a < va + len; a += ps) {
      if (fixed) m.pages.delete(a);
      else if (m.pages.has(a)) this.fail(`${desc} returned ${hex(va)}, but ${hex(a)} was mapped: ${this.formatMaps(m.pid)}`);
    }
    let obj: ObjModel | null = h === undefined ? null : h.model;
    if (obj === null && shared) {
      const bytes = new Uint8Array(len);
      obj = { name: '[shared anon]', bytes, pages, key: () => 'shared-anon' };
    }
    const base = h === undefined ? 0 : offPage;
    for (let i = 0; i < pages; i++) {
      const p: PageModel = {
        prot,
        maxProt: !this.mmu && h !== undefined && !shared && !(prot & Prot.WRITE) ? RX : RWX,
        flags: flags & FLAG_MASK,
        name: obj === null ? '[anon]' : obj.name,
        obj,
        objPage: obj === null ? -1 : base + i,
        shared,
        own: null,
        key: sharesBlock ? h!.model.key(base + i) : null,
      };
      // Without an MMU a private writable mapping is a copy made now.
      if (!this.mmu && !shared && h !== undefined && !sharesBlock) p.own = pageContent(p, ps, this.zero).slice();
      m.pages.set(va + i * ps, p);
    }
  }

  private munmap(): void {
    const m = this.pickProc();
    if (m !== undefined) this.munmapIn(m, false);
  }

  private munmapIn(m: ProcModel, big: boolean): void {
    this.touched.add(m);
    const [addr, size, want0] = this.range(m, big);
    let want = want0;
    let a = addr;
    let s = size;
    if (want === undefined && this.rng.chance(0.03)) [a, s, want] = this.rng.chance(0.5) ? [addr + 16, size, 'EINVAL'] : [addr, 0, 'EINVAL'];
    const desc = `p${m.pid}.munmap(${hex(a)}, ${hex(s)})`;
    const r = this.attempt(desc, () => m.proc.munmap(a, s));
    if (!this.expect(desc, r, want, true)) return;
    const len = Math.ceil(s / this.ps) * this.ps;
    for (let x = a; x < a + len; x += this.ps) m.pages.delete(x);
  }

  private mprotect(): void {
    const m = this.pickProc();
    if (m === undefined) return;
    this.touched.add(m);
    const ps = this.ps;
    const [addr, size, want0] = this.range(m, false);
    let want = want0;
    let prot = this.rng.int(8);
    let a = addr;
    if (want === undefined && this.rng.chance(0.03)) {
      if (this.rng.chance(0.5)) [prot, want] = [0x10, 'EINVAL'];
      else [a, want] = [addr + 16, 'EINVAL'];
    }
    const len = Math.ceil(size / ps) * ps;
    if (want === undefined) {
      // In address order, as the mapper validates: a hole → ENOMEM, more than the mapping allows → EACCES.
      for (let x = a; x < a + len && want === undefined; x += ps) {
        const p = m.pages.get(x);
        if (p === undefined) want = 'ENOMEM';
        else if (prot & ~p.maxProt) want = 'EACCES';
      }
    }
    const desc = `p${m.pid}.mprotect(${hex(a)}, ${hex(size)}, ${prot})`;
    const r = this.attempt(desc, () => m.proc.mprotect(a, size, prot));
    if (!this.expect(desc, r, want, true)) return;
    for (let x = a; x < a + len; x += ps) m.pages.get(x)!.prot = prot;
  }

  private write(): void {
    const m = this.pickProc();
    if (m === undefined) return;
    this.touched.add(m);
    const ps = this.ps;
    const va = this.accessAddress(m);
    const len = this.accessLength();
    const bytes = this.rng.bytes(len);
    const want = this.accessCode(m, va, len, true);
    const desc = `p${m.pid}.write(${hex(va)}, bytes(${len}))`;
    const r = this.attempt(desc, () => m.proc.write(va, bytes), true);
    if (r.code === 'ENOMEM' && want === undefined && this.mayRunOut(r, this.mmu)) {
      this.count('ENOMEM', true);
      // Pages faulted in before the one that ran out keep their private copies (of the bytes before the write).
      for (const c of this.cows) {
        const p = c.pid === m.pid ? m.pages.get(c.va) : undefined;
        if (p === undefined || c.va < va - (va % ps) || c.va >= va + len) this.fail(`${desc} copied page ${hex(c.va)} of p${c.pid}, outside the write`);
        if (!p.shared) pageTarget(p, ps, this.zero);
      }
      // Pages before the one that ran out may have been written: read them back, each page all old or all new.
      let partial = false;
      for (let pos = 0; pos < len; ) {
        const n = Math.min(len - pos, ps - ((va + pos) % ps));
        const got = this.attempt(`  read back p${m.pid}.read(${hex(va + pos)}, ${n})`, () => m.proc.read(va + pos, n));
        if (got.code === undefined) {
          const old = this.modelRead(m, va + pos, n);
          const neu = bytes.subarray(pos, pos + n);
          if (equal(got.value!, neu) && !equal(old, neu)) {
            this.modelWrite(m, va + pos, neu);
            partial = true;
          } else if (!equal(got.value!, old)) {
            this.fail(`${desc} failed with ENOMEM and left page ${hex(va + pos - ((va + pos) % ps))} neither old nor new`);
          }
        } else if (got.code !== 'ENOMEM') this.fail(`read back after ${desc}: ${got.code}`);
        pos += n;
      }
      if (partial) this.stats.partialWrites++;
      return;
    }
    if (!this.expect(desc, r, want, this.mmu)) return;
    this.modelWrite(m, va, bytes);
  }

  private read(): void {
    const m = this.pickProc();
    if (m === undefined) return;
    const va = this.accessAddress(m);
    const len = this.accessLength();
    const want = this.accessCode(m, va, len, false);
    const desc = `p${m.pid}.read(${hex(va)}, ${len})`;
    const r = this.attempt(desc, () => m.proc.read(va, len));
    if (!this.expect(desc, r, want, this.mmu)) return;
    this.compareBytes(desc, m, va, r.value!);
  }

  // --- checks after every step -----------------------------------------------------------------------------------

  private verify(full: boolean): void {
    const live = this.vm.processes();
    if (live.length !== this.procs.length) this.fail(`vm.processes() has ${live.length} processes, the model ${this.procs.length}`);
    if (full) {
      this.check();
      for (const m of this.procs) this.compareMaps(m);
    } else for (const m of this.touched) if (this.procs.includes(m)) this.compareMaps(m);
    for (let s = 0; s < this.opts.samples; s++) this.samplePage();
  }

  private check(): void {
    this.stats.checks++;
    try {
      this.vm.check();
    } catch (e) {
      this.fail(`vm.check() failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private samplePage(): void {
    const m = this.pickProc();
    if (m === undefined || m.pages.size === 0) return;
    const va = this.randomPage(m);
    const p = m.pages.get(va)!;
    if (!this.readable(p.prot)) return;
    const desc = `p${m.pid}.read(${hex(va)}, ${hex(this.ps)}) [sample]`;
    const r = this.attempt(desc, () => m.proc.read(va, this.ps));
    if (!this.expect(desc, r, undefined, this.mmu)) return;
    this.compareBytes(desc, m, va, r.value!);
  }

  private compareMaps(m: ProcModel): void {
    const ps = this.ps;
    let n = 0;
    const list = this.vm.maps(m.pid);
    for (const e of list) {
      for (let va = e.start; va < e.end; va += ps) {
        const p = m.pages.get(va);
        const at = `p${m.pid} page ${hex(va)} (entry ${hex(e.start)}-${hex(e.end)} ${e.object})`;
        if (p === undefined) this.fail(`${at} is mapped, the model has no page there`);
        n++;
        if ((e.prot & RWX) !== p.prot || !(e.prot & Prot.USER)) this.fail(`${at}: prot ${hex(e.prot)}, the model says ${hex(p.prot)} | USER`);
        if ((e.flags & FLAG_MASK) !== p.flags) this.fail(`${at}: flags ${hex(e.flags)}, the model says ${hex(p.flags)}`);
        if (e.object !== p.name) this.fail(`${at}: object ${e.object}, the model says ${p.name}`);
        if (p.obj !== null && e.offset + (va - e.start) !== p.objPage * ps) {
          this.fail(`${at}: object offset ${hex(e.offset + (va - e.start))}, the model says ${hex(p.objPage * ps)}`);
        }
      }
    }
    if (n !== m.pages.size) {
      const missing = [...m.pages.keys()].filter((va) => !list.some((e) => e.start <= va && va < e.end));
      this.fail(`p${m.pid}: the model has pages ${missing.slice(0, 8).map(hex).join(', ')} that vm.maps() does not: ${this.formatMaps(m.pid)}`);
    }
  }

  private compareBytes(desc: string, m: ProcModel, va: number, got: Uint8Array): void {
    const want = this.modelRead(m, va, got.length);
    if (equal(got, want)) return;
    let i = 0;
    while (got[i] === want[i]) i++;
    const a = va + i;
    const p = m.pages.get(a - (a % this.ps))!;
    this.fail(
      `${desc}: byte at ${hex(a)} reads ${got[i]}, the model says ${want[i]} ` +
        `(page: ${p.name} prot ${p.prot} ${p.shared ? 'shared' : 'private'} objPage ${p.objPage} own ${p.own !== null})`,
    );
  }

  // --- the model's answers ---------------------------------------------------------------------------------------

  private readable(prot: number): boolean {
    return (prot & RW) !== 0 || (!this.execProtect && (prot & Prot.EXEC) !== 0);
  }

  /** The errno of a user access of `[va, va + len)`: the first page that refuses it decides. */
  private accessCode(m: ProcModel, va: number, len: number, write: boolean): string | undefined {
    const ps = this.ps;
    for (let pg = va - (va % ps); pg < va + len; pg += ps) {
      const p = m.pages.get(pg);
      if (p === undefined) return 'EFAULT';
      if (write ? !(p.prot & Prot.WRITE) : !this.readable(p.prot)) return 'EACCES';
    }
    return undefined;
  }

  private modelRead(m: ProcModel, va: number, len: number): Uint8Array {
    const ps = this.ps;
    const out = new Uint8Array(len);
    for (let pos = 0; pos < len; ) {
      const a = va + pos;
      const off = a % ps;
      const n = Math.min(len - pos, ps - off);
      out.set(pageContent(m.pages.get(a - off)!, ps, this.zero).subarray(off, off + n), pos);
      pos += n;
    }
    return out;
  }

  /**
   * Applies a write as the stack does it: every page of the range is faulted in (private ones copied) before the
   * first byte is written, so a private page copies the bytes from before the write even when the same write also
   * changes its object through a SHARED page.
   */
  private modelWrite(m: ProcModel, va: number, bytes: Uint8Array): void {
    const ps = this.ps;
    for (let pg = va - (va % ps); pg < va + bytes.length; pg += ps) pageTarget(m.pages.get(pg)!, ps, this.zero);
    for (let pos = 0; pos < bytes.length; ) {
      const a = va + pos;
      const off = a % ps;
      const n = Math.min(bytes.length - pos, ps - off);
      pageTarget(m.pages.get(a - off)!, ps, this.zero).set(bytes.subarray(pos, pos + n), off);
      pos += n;
    }
  }

  // --- choices -----------------------------------------------------------------------------------------------------

  private pickProc(): ProcModel | undefined {
    return this.procs.length === 0 ? undefined : this.rng.pick(this.procs);
  }

  private randomPage(m: ProcModel): number {
    let i = this.rng.int(m.pages.size);
    for (const va of m.pages.keys()) if (i-- === 0) return va;
    throw new Error('unreachable');
  }

  /** A page address near what the process maps (holes and neighbours included), or anywhere in its range. */
  private anchor(m: ProcModel): number {
    const ps = this.ps;
    if (m.pages.size > 0 && this.rng.chance(0.85)) return Math.max(0, this.randomPage(m) + this.rng.range(-3, 3) * ps);
    if (this.mmu) return this.lo + this.rng.int(WINDOW) * ps;
    return this.ramBase + this.rng.int(this.ramPages) * ps;
  }

  /** A byte address for a read or write: near the process's pages, now and then in the kernel. */
  private accessAddress(m: ProcModel): number {
    if (this.mmu && this.rng.chance(0.01)) return this.arch.kernelRange[0] + this.rng.int(64) * this.ps + this.rng.int(this.ps);
    return this.anchor(m) + this.rng.int(this.ps);
  }

  private accessLength(): number {
    const r = this.rng.int(100);
    const ps = this.ps;
    if (r < 70) return this.rng.range(1, ps);
    if (r < 95) return this.rng.range(1, 3 * ps);
    return this.rng.range(1, 8 * ps);
  }

  /** `[addr, size, EINVAL when outside the range]` for munmap/mprotect: page-aligned address, any size. */
  private range(m: ProcModel, big: boolean): [number, number, string | undefined] {
    const ps = this.ps;
    const addr = big && m.pages.size > 0 ? this.randomPage(m) : this.anchor(m);
    const pages = big || this.rng.chance(0.1) ? this.rng.range(8, 40) : this.rng.range(1, 6);
    const size = pages * ps - (this.rng.chance(0.4) ? this.rng.int(ps) : 0);
    const bad = addr < this.lo || addr + pages * ps > this.hi;
    return [addr, size, bad ? 'EINVAL' : undefined];
  }

  // --- fault injection -----------------------------------------------------------------------------------------------

  private armFaults(): void {
    if (!this.opts.faults) return;
    const f = this.vm.faults;
    if (this.budgetLeft > 0) {
      if (--this.budgetLeft === 0) this.disarm();
      return;
    }
    if (this.armedSite !== null) {
      if (!f.armed) this.armedSite = null;
      // Not every site is reached by every workload (`zone` by none through the Vm: kmalloc takes its blocks
      // with Zone.take, and a new zone's pages count at `frame`): give up after a while.
      else if (++this.armedAge > 40) this.disarm();
      return;
    }
    if (!this.rng.chance(0.2)) return;
    if (this.rng.chance(0.8)) {
      // Every site in turn, so each one fails somewhere.
      const site = FAULT_SITES[this.siteCursor++ % FAULT_SITES.length];
      const n = this.rng.range(1, 6);
      f.failAt(site, n);
      this.log(`vm.faults.failAt('${site}', ${n})`);
      this.armedSite = site;
      this.armedAge = 0;
    } else {
      const n = this.rng.range(0, 40);
      f.failAfter(n);
      this.log(`vm.faults.failAfter(${n})`);
      this.budgetLeft = this.rng.range(1, 6);
    }
  }

  private disarm(): void {
    this.countFired();
    this.vm.faults.reset();
    this.log('vm.faults.reset()');
    this.lastFailed = 0;
    this.armedSite = null;
    this.budgetLeft = 0;
  }

  private countFired(): void {
    const failed = this.vm.faults.counts().failed;
    const d = failed - this.lastFailed;
    if (d <= 0) return;
    this.lastFailed = failed;
    this.stats.injectedFired += d;
    const by = this.armedSite ?? 'failAfter';
    this.stats.firedBy[by] = (this.stats.firedBy[by] ?? 0) + d;
  }

  // --- calls and outcomes ----------------------------------------------------------------------------------------------

  private attempt<T>(desc: string, fn: () => T, copies = false): Attempt<T> {
    const armed = this.vm.faults.armed;
    this.cows.length = 0;
    try {
      const value = fn();
      this.log(desc);
      if (!copies && this.cows.length > 0) this.fail(`${desc} copied a page (cow at ${hex(this.cows[0].va)}): only writes copy`);
      return { code: undefined, value, armed };
    } catch (e) {
      if (isVmError(e)) {
        this.log(`${desc} → ${e.code}`);
        if (!copies && this.cows.length > 0) this.fail(`${desc} copied a page (cow at ${hex(this.cows[0].va)}): only writes copy`);
        return { code: e.code, value: undefined, armed };
      }
      this.log(`${desc} → threw ${String(e)}`);
      this.fail(`${desc} threw something other than a VmError: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }

  private mayRunOut(r: Attempt<unknown>, allocates: boolean): boolean {
    return allocates && (this.opts.board.tiny || r.armed);
  }

  /**
   * Checks an outcome: `want` (an errno, or undefined for success), or ENOMEM where an allocation may fail. True when
   * the operation succeeded.
   */
  private expect(desc: string, r: Attempt<unknown>, want: string | undefined, allocates: boolean): boolean {
    if (r.code === want) {
      if (want !== undefined) this.count(want);
      return want === undefined;
    }
    if (r.code === 'ENOMEM' && (want === undefined || want === 'EEXIST') && this.mayRunOut(r, allocates)) {
      this.count('ENOMEM', true);
      return false;
    }
    this.fail(`${desc}: expected ${want ?? 'success'}, got ${r.code ?? 'success'}${r.armed ? ' (a failure was armed)' : ''}`);
  }

  private count(code: string, outOfMemory = false): void {
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
    if (outOfMemory) this.stats.outOfMemory++;
  }

  fail(message: string): never {
    const o = this.opts;
    throw new ModelFailure(
      `[stack model: ${this.arch.name}, board ${o.board.label}, seed ${o.seed}, profile ${o.profile}, faults ${o.faults}, step ${this.step0}] ${message}\n` +
        `last operations:\n  ${this.recentOps().join('\n  ')}`,
    );
  }

  private log(line: string): void {
    const s = `#${this.step0} ${line}`;
    const max = this.opts.traceLength;
    if (this.trace.length < max) this.trace.push(s);
    else {
      this.trace[this.traceAt] = s;
      this.traceAt = (this.traceAt + 1) % max;
    }
  }

  private objName(o: VmObject): string {
    return `o${o.id}`;
  }

  private formatOpts(o: { addr?: number; size: number; prot: number; flags: number; object?: VmObject; offset?: number }): string {
    const parts = [
      o.addr === undefined ? '' : `addr: ${hex(o.addr)}`,
      `size: ${hex(o.size)}`,
      `prot: ${o.prot}`,
      `flags: ${hex(o.flags)}`,
      o.object === undefined ? '' : `object: o${o.object.id}`,
      o.offset === undefined ? '' : `offset: ${hex(o.offset)}`,
    ];
    return `{ ${parts.filter((p) => p !== '').join(', ')} }`;
  }

  private formatMaps(pid: number): string {
    return this.vm
      .maps(pid)
      .map((e) => `${hex(e.start)}-${hex(e.end)} p${e.prot} f${hex(e.flags)} ${e.object}@${hex(e.offset)}`)
      .join(', ');
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Runs `epochs` epochs of `ops` steps each; throws {@link ModelFailure} on the first mismatch or leak. */
export function runDriver(options: DriverOptions, epochs: number, ops: number): StackDriver {
  const d = new StackDriver(options);
  for (let e = 0; e < epochs; e++) {
    for (let i = 0; i < ops; i++) d.step();
    const leaks = d.drain();
    if (leaks.length > 0) d.fail(`conservation after epoch ${e}: ${leaks.join('; ')}`);
  }
  return d;
}
