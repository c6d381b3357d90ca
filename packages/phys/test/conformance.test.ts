/*
 * The conformance suite run against two tiny in-test pmaps: an MMU-like one whose "tables" are frames from the
 * allocator covering 16 pages each (contents kept in a Map), and an identity one without an MMU. They exist to
 * prove the suite itself: what it demands is what the contract says, on both branches of `hasMmu`.
 */
import {
  Access,
  FaultCode,
  PageAttr,
  PageUsage,
  VmError,
  checkAligned,
  checkBits,
  checkSize,
  invariant,
  isUint,
} from '../src/index.js';
import type { BoardMemoryMap, PageAllocator, PhysicalMemory, Pmap, PmapFactory, PmapStats, PmapTable } from '../src/index.js';
import { describePmapConformance } from '../src/testing.js';

const PS = 4096;
const GROUP = 16; // pages per fake table
const USER: readonly [number, number] = [PS, 0x8000_0000];
const KERNEL: readonly [number, number] = [0x8000_0000, 0x8000_0000 + 64 * PS];

interface Pte {
  pa: number;
  attr: number;
  /** Accessed and dirty, as hardware would set them. */
  a: boolean;
  d: boolean;
}

/** A TLB entry: `d` says whether it was filled with D set (only then may a write hit it). */
interface TlbEntry {
  pa: number;
  attr: number;
  d: boolean;
}

interface Shared {
  mem: PhysicalMemory;
  alloc: PageAllocator;
  gen: number;
  /** Kernel-page invalidations: each counts in every space (a shootdown). */
  shootdowns: number;
  users: number;
  kernelTables: Map<number, Map<number, Pte>>;
}

function checkPage(name: string, v: unknown, lo: number, hi: number): asserts v is number {
  checkAligned(name, v, PS);
  if (v < lo || v >= hi) throw new VmError('EINVAL', `${name} bad: ${String(v)}`);
}

function checkAttr(attr: unknown): void {
  checkBits('attr', attr, 0xff);
}

/** What check() demands of a present leaf: RAM that is allocated and no page table, or a device window. */
function checkLeaf(s: { mem: PhysicalMemory; alloc: PageAllocator }, va: number, pa: number): void {
  if (s.mem.isRam(pa, PS)) {
    const f = s.alloc.get(pa);
    invariant(f !== undefined && !f.free, `page ${va} maps free frame ${pa}`);
    invariant(f.usage !== PageUsage.PTABLE, `page ${va} maps page table ${pa}`);
  } else {
    const r = s.mem.board.regionAt(pa);
    invariant(r !== undefined && r.kind === 'device' && pa + PS <= r.base + r.size, `page ${va} maps ${pa}, neither RAM nor a device`);
  }
}

/** Whether a page entered with `attr` allows `access` (Sv39-like: supervisor and user apart, R needed to read). */
function allows(attr: number, access: number): boolean {
  const user = (access & Access.USER) !== 0;
  if (user !== ((attr & PageAttr.USER) !== 0)) return false;
  if (access & Access.READ && !(attr & (PageAttr.READ | PageAttr.WRITE))) return false;
  if (access & Access.WRITE && !(attr & PageAttr.WRITE)) return false;
  if (access & Access.EXEC && !(attr & PageAttr.EXEC)) return false;
  return true;
}

function isAccess(access: unknown): boolean {
  return typeof access === 'number' && access === (access & 15) && (access & 7) !== 0;
}

class FakeMmuPmap implements Pmap {
  private readonly tables_ = new Map<number, Map<number, Pte>>();
  private readonly frames = new Map<number, number>(); // group → table frame
  private readonly root: number;
  private readonly tlb = new Map<number, TlbEntry>();
  private seen: number;
  private readonly shootdownsBefore: number;
  private hits = 0;
  private misses = 0;
  private flushes = 0;
  private walks = 0;
  private dead = false;

  constructor(
    private readonly s: Shared,
    private readonly kernel: boolean,
  ) {
    const f = s.alloc.alloc(PS, { usage: PageUsage.PTABLE });
    if (!f) throw new VmError('ENOMEM', 'no root');
    this.root = f.pa;
    this.seen = s.gen;
    this.shootdownsBefore = s.shootdowns;
  }

  private get range(): readonly [number, number] {
    return this.kernel ? KERNEL : USER;
  }

  private tableFor(group: number): Map<number, Pte> | undefined {
    return group * GROUP * PS >= KERNEL[0] ? this.s.kernelTables.get(group) : this.tables_.get(group);
  }

  expand(group: number): boolean {
    const f = this.s.alloc.alloc(PS, { usage: PageUsage.PTABLE });
    if (!f) return false;
    this.frames.set(group, f.pa);
    (this.kernel ? this.s.kernelTables : this.tables_).set(group, new Map());
    return true;
  }

  enter(pa: number, va: number, attr: number): number {
    if (this.dead) throw new VmError('EINVAL', 'dead');
    checkPage('va', va, this.range[0], this.range[1]);
    checkPage('pa', pa, 0, 2 ** 32);
    checkAttr(attr);
    const g = Math.floor(va / PS / GROUP);
    if (!this.tableFor(g) && !this.expand(g)) return FaultCode.NO_MEMORY;
    const old = this.tableFor(g)!.get(va / PS);
    this.tableFor(g)!.set(va / PS, { pa, attr, a: false, d: false });
    if (old) this.invalidate(va / PS);
    return 0;
  }

  private invalidate(vpn: number): void {
    this.tlb.delete(vpn);
    if (this.kernel || vpn * PS >= KERNEL[0]) {
      // a kernel page: every other space drops its whole TLB before its next use, and counts the shootdown
      this.seen = ++this.s.gen;
      this.s.shootdowns++;
    } else {
      this.flushes++;
    }
  }

  private each(vstart: number, vend: number, fn: (t: Map<number, Pte>, vpn: number, p: Pte) => void): void {
    if (this.dead) throw new VmError('EINVAL', 'dead');
    for (const v of [vstart, vend]) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v % PS !== 0) throw new VmError('EINVAL', 'range');
    }
    if (vstart > vend || (vstart < vend && (vstart < this.range[0] || vend > this.range[1]))) {
      throw new VmError('EINVAL', 'range');
    }
    const own = this.kernel ? this.s.kernelTables : this.tables_;
    for (const t of own.values()) {
      for (const [vpn, p] of [...t]) if (vpn * PS >= vstart && vpn * PS < vend) fn(t, vpn, p);
    }
  }

  remove(vstart: number, vend: number): void {
    this.each(vstart, vend, (t, vpn) => {
      t.delete(vpn);
      this.invalidate(vpn);
    });
    if (!this.kernel) {
      for (const [g, t] of [...this.tables_]) {
        if (t.size === 0) {
          this.tables_.delete(g);
          this.s.alloc.free({ pa: this.frames.get(g)!, order: 0 });
          this.frames.delete(g);
        }
      }
    }
  }

  protect(vstart: number, vend: number, attr: number): void {
    checkAttr(attr);
    this.each(vstart, vend, (_t, vpn, p) => {
      p.attr = attr;
      this.invalidate(vpn);
    });
  }

  resolve(va: number): number {
    if (this.dead || !isUint(va)) return -1;
    this.walks++;
    const p = this.tableFor(Math.floor(va / PS / GROUP))?.get(Math.floor(va / PS));
    return p && p.attr & PageAttr.PRESENT ? p.pa + (va % PS) : -1;
  }

  translate(va: number, access: number): number {
    if (typeof va !== 'number' || !Number.isInteger(va) || !isAccess(access)) return FaultCode.BAD_ADDRESS;
    if (va < 0 || va >= 2 ** 32) return FaultCode.NON_CANONICAL;
    if (this.dead) return FaultCode.NOT_MAPPED;
    if (this.seen !== this.s.gen) {
      this.tlb.clear();
      this.seen = this.s.gen;
    }
    const vpn = Math.floor(va / PS);
    const write = (access & Access.WRITE) !== 0;
    const e = this.tlb.get(vpn);
    // a write hits only an entry filled with D set, as a hardware TLB caches D
    if (e && (!write || e.d)) {
      this.hits++;
      return allows(e.attr, access) ? e.pa + (va % PS) : FaultCode.PROTECTION;
    }
    this.misses++;
    this.walks++;
    const p = this.tableFor(Math.floor(vpn / GROUP))?.get(vpn);
    if (!p || !(p.attr & PageAttr.PRESENT)) return FaultCode.NOT_MAPPED;
    if (!allows(p.attr, access)) return FaultCode.PROTECTION;
    p.a = true;
    if (write) p.d = true;
    this.tlb.set(vpn, { pa: p.pa, attr: p.attr, d: p.d });
    return p.pa + (va % PS);
  }

  referenced(va: number, clear?: boolean): boolean {
    return this.bit('a', va, clear);
  }

  dirty(va: number, clear?: boolean): boolean {
    return this.bit('d', va, clear);
  }

  private bit(k: 'a' | 'd', va: unknown, clear: unknown): boolean {
    if (this.dead) throw new VmError('EINVAL', 'dead');
    if (typeof va !== 'number' || !Number.isSafeInteger(va) || va < 0 || va >= KERNEL[1]) throw new VmError('EINVAL', 'va');
    if (clear !== undefined && typeof clear !== 'boolean') throw new VmError('EINVAL', 'clear');
    const vpn = Math.floor(va / PS);
    this.walks++;
    const p = this.tableFor(Math.floor(vpn / GROUP))?.get(vpn);
    if (!p || !p[k]) return false;
    if (clear) {
      p[k] = false;
      if (p.attr & PageAttr.PRESENT) this.invalidate(vpn);
    }
    return true;
  }

  activate(): void {}

  destroy(): void {
    if (this.dead) return;
    if (this.kernel && this.s.users > 0) throw new VmError('EBUSY', 'users');
    for (const pa of this.frames.values()) this.s.alloc.free({ pa, order: 0 });
    this.s.alloc.free({ pa: this.root, order: 0 });
    this.frames.clear();
    this.tlb.clear();
    this.dead = true;
    if (!this.kernel) this.s.users--;
  }

  tables(): PmapTable[] {
    if (this.dead) return [];
    return [
      { level: 0, pa: this.root, va: 0, entries: this.frames.size, span: GROUP * PS },
      ...[...this.frames].map(([g, pa]) => ({
        level: 1,
        pa,
        va: g * GROUP * PS,
        entries: (this.kernel ? this.s.kernelTables : this.tables_).get(g)!.size,
        span: PS,
      })),
    ];
  }

  check(): void {
    if (this.dead) {
      invariant(this.frames.size === 0 && this.tlb.size === 0, 'a destroyed pmap holds tables or translations');
      return;
    }
    const own = this.kernel ? this.s.kernelTables : this.tables_;
    invariant(own.size === this.frames.size || this.kernel, `${own.size} tables, ${this.frames.size} frames`);
    for (const pa of [this.root, ...this.frames.values()]) {
      const f = this.s.alloc.get(pa);
      invariant(f !== undefined && !f.free && f.usage === PageUsage.PTABLE, `table ${pa} is not an allocated PTABLE frame`);
    }
    invariant(this.stats().tableFrames === 1 + this.frames.size, 'table frame count');
    for (const t of own.values()) for (const [vpn, p] of t) if (p.attr & PageAttr.PRESENT) checkLeaf(this.s, vpn * PS, p.pa);
    if (this.seen !== this.s.gen) return; // the whole TLB is dropped before its next use
    for (const [vpn, e] of this.tlb) {
      const p = this.tableFor(Math.floor(vpn / GROUP))?.get(vpn);
      invariant(p !== undefined && p.attr & PageAttr.PRESENT && p.pa === e.pa && p.attr === e.attr, `TLB entry ${vpn} is stale`);
      invariant(p.a && (p.d || !e.d), `TLB entry ${vpn} hides a cleared accessed or dirty bit`);
    }
  }

  stats(): PmapStats {
    return {
      tableFrames: this.dead ? 0 : 1 + this.frames.size,
      tlbHits: this.hits,
      tlbMisses: this.misses,
      tlbFlushes: this.flushes + this.s.shootdowns - this.shootdownsBefore,
      walks: this.walks,
    };
  }
}

const fakeMmu: PmapFactory = {
  name: 'fake-mmu',
  pageSize: PS,
  userRange: USER,
  kernelRange: KERNEL,
  defaultBoard: 'riscv-virt-64m',
  capabilities: { hasMmu: true, execProtect: true, supervisorReadsUser: false, sharedKernelHalf: true, accessedDirty: true },
  createKernel(mem: PhysicalMemory, alloc: PageAllocator, _board: BoardMemoryMap): Pmap {
    const s: Shared = { mem, alloc, gen: 0, shootdowns: 0, users: 0, kernelTables: new Map() };
    const k = new FakeMmuPmap(s, true);
    for (let g = KERNEL[0] / PS / GROUP; g < KERNEL[1] / PS / GROUP; g++) k.expand(g);
    (k as unknown as { s: Shared }).s = s;
    return k;
  },
  createUser(kernelPmap: Pmap): Pmap {
    const s = (kernelPmap as unknown as { s: Shared }).s;
    const u = new FakeMmuPmap(s, false);
    s.users++;
    return u;
  },
};

class FakeFlatPmap implements Pmap {
  private dead = false;
  private walks = 0;
  // Board maps granted to this space (by region base); the fake checks nothing against them.
  private readonly granted = new Set<number>();
  constructor(private readonly mem: PhysicalMemory) {}
  private checkVa(va: unknown): asserts va is number {
    checkAligned('va', va, 512);
    if (va >= 2 ** 32) throw new VmError('EINVAL', `va bad: ${String(va)}`);
  }
  enter(pa: number, va: number, attr: number): number {
    if (this.dead) throw new VmError('EINVAL', 'dead');
    this.checkVa(va);
    if (pa !== va) throw new VmError('EINVAL', 'pa must equal va');
    checkAttr(attr);
    return 0;
  }
  remove(vstart: number, vend: number): void {
    if (this.dead) throw new VmError('EINVAL', 'dead');
    this.checkVa(vstart);
    if (vend !== 2 ** 32) this.checkVa(vend);
    if (vend < vstart) throw new VmError('EINVAL', 'range');
  }
  protect(vstart: number, vend: number, attr: number): void {
    this.remove(vstart, vend);
    checkAttr(attr);
  }
  resolve(va: number): number {
    return !this.dead && isUint(va) && this.mem.isRam(va) ? va : -1;
  }
  translate(va: number, access: number): number {
    this.walks++;
    if (typeof va !== 'number' || !Number.isInteger(va) || !isAccess(access)) return FaultCode.BAD_ADDRESS;
    if (va < 0 || va >= 2 ** 32) return FaultCode.NON_CANONICAL;
    if (this.dead) return FaultCode.NOT_MAPPED;
    return this.mem.isRam(va) ? va : FaultCode.BAD_ADDRESS;
  }
  referenced(): boolean {
    throw new VmError('ENOSYS', 'no accessed/dirty bits');
  }
  dirty(): boolean {
    throw new VmError('ENOSYS', 'no accessed/dirty bits');
  }
  activate(): void {}
  destroy(): void {
    this.dead = true;
    this.granted.clear();
  }
  tables(): PmapTable[] {
    return [];
  }
  stats(): PmapStats {
    return { tableFrames: 0, tlbHits: 0, tlbMisses: 0, tlbFlushes: 0, walks: this.walks };
  }
  check(): void {
    for (const base of this.granted) invariant(this.mem.board.regionAt(base)?.base === base, `grant ${base} is no board map`);
    invariant(!this.dead || this.granted.size === 0, 'a destroyed pmap holds grants');
  }
  grant(pa: number, len: number): void {
    if (this.dead) throw new VmError('EINVAL', 'dead');
    checkSize('len', len);
    if (!isUint(pa) || pa + len > 2 ** 53) throw new VmError('EINVAL', `pa bad: ${String(pa)}`);
    const bases: number[] = [];
    for (let a = pa; a < pa + len; ) {
      const r = this.mem.board.regionAt(a);
      if (r === undefined) throw new VmError('EINVAL', `no board map at ${a}`);
      bases.push(r.base);
      a = r.base + r.size;
    }
    for (const b of bases) this.granted.add(b);
  }
}

const fakeFlat: PmapFactory = {
  name: 'fake-flat',
  pageSize: 512,
  userRange: [0, 2 ** 32],
  kernelRange: [0, 2 ** 32],
  defaultBoard: 'stm32-512k',
  capabilities: { hasMmu: false, execProtect: true, supervisorReadsUser: true, sharedKernelHalf: true, accessedDirty: false },
  createKernel(mem: PhysicalMemory): Pmap {
    const k = new FakeFlatPmap(mem);
    (k as unknown as { memRef: PhysicalMemory }).memRef = mem;
    return k;
  },
  createUser(kernelPmap: Pmap): Pmap {
    return new FakeFlatPmap((kernelPmap as unknown as { memRef: PhysicalMemory }).memRef);
  },
};

describePmapConformance(fakeMmu);
describePmapConformance(fakeFlat);
