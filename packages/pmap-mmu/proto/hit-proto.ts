// Prototypes of the TLB hit path (README, "Prototypes of the hit path"), measured with testkit's harness on the built
// dist/ (npx tsup first): node --expose-gc --import tsx proto/hit-proto.ts [row filter]
import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { measureRow } from '../../testkit/src/bench/harness.js';
import { ia32, sv39 } from '../dist/index.js';
import type { MmuPmap } from '../dist/index.js';

const PS = 4096, N = 4096, MASK = N - 1, HIT_PAGES = 64, BASE = 0x40_0000;
const RWU = PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER;
const ACCESS = Access.READ | Access.USER;
const only = process.argv[2];

function setup(factory: PmapFactory, pages: number) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const kernel = factory.createKernel(mem, alloc, board);
  const user = factory.createUser(kernel) as MmuPmap;
  for (let p = 0; p < pages; p++) user.enter(alloc.alloc(PS, { owner: PageOwner.APP })!.pa, BASE + p * PS, RWU);
  return user;
}
function workload(pages: number, seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const vas = new Uint32Array(N);
  const flat = new Uint32Array(N);
  for (let i = 0; i < N; i++) {
    const page = (next() >>> 10) % pages;
    const word = (next() >>> 12) % 1024;
    vas[i] = BASE + page * PS + word * 4;
    flat[i] = page * 1024 + word;
  }
  return { vas, flat };
}

// (a) a tiny hit method: page number by >>> 12 with the integer test va === va >>> 0 (folds for a uint32 va)
class TinyA {
  hits = 0;
  e: Int32Array;
  constructor(public p: MmuPmap) { this.e = p.tlbView().entries; }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const info = e[k + 1];
      if (e[k] === vpn && va === va >>> 0 && ((info >>> access) & 1) === 1 && access === (access & 15) && info >>> 16 === 0) {
        this.hits++;
        return (e[k + 2] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (a') the same without the hit counter
class TinyNoCount {
  e: Int32Array;
  constructor(public p: MmuPmap) { this.e = p.tlbView().entries; }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const info = e[k + 1];
      if (e[k] === vpn && va === va >>> 0 && ((info >>> access) & 1) === 1 && access === (access & 15) && info >>> 16 === 0) {
        return (e[k + 2] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (b) hits counted per slot in the slot's spare word (folded into the total when the slot is refilled / on stats)
class TinySlot {
  e: Int32Array;
  constructor(public p: MmuPmap) { this.e = p.tlbView().entries; }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const info = e[k + 1];
      if (e[k] === vpn && va === va >>> 0 && ((info >>> access) & 1) === 1 && access === (access & 15) && info >>> 16 === 0) {
        e[k + 3]++;
        return (e[k + 2] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (c') flat, no counter
class FlatNoCount {
  f = new Int32Array(2 << 20);
  constructor(public p: MmuPmap) {}
  fillFrom(vas: Uint32Array) {
    const e = this.p.tlbView().entries;
    for (const va of vas) {
      this.p.translate(va, ACCESS);
      const vpn = va >>> 12, k = (vpn & 255) << 2;
      this.f[vpn * 2] = e[k + 1]; this.f[vpn * 2 + 1] = e[k + 2];
    }
  }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const k = (va >>> 12) << 1;
      const f = this.f;
      if (va === va >>> 0 && ((f[k] >>> access) & 1) === 1 && access === (access & 15)) {
        return (f[k + 1] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// counter variants: Float64Array, Int32Array with carry; k = (vpn & 255) * 4
class TinyF64 {
  c = new Float64Array(1);
  e: Int32Array;
  constructor(public p: MmuPmap) { this.e = p.tlbView().entries; }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const info = e[k + 1];
      if (e[k] === vpn && va === va >>> 0 && ((info >>> access) & 1) === 1 && access === (access & 15) && info >>> 16 === 0) {
        this.c[0]++;
        return (e[k + 2] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
class TinyI32 {
  c = new Int32Array(2);
  e: Int32Array;
  constructor(public p: MmuPmap) { this.e = p.tlbView().entries; }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const info = e[k + 1];
      if (e[k] === vpn && va === va >>> 0 && ((info >>> access) & 1) === 1 && access === (access & 15) && info >>> 16 === 0) {
        const c = this.c;
        const h = (c[0] + 1) | 0;
        c[0] = h;
        if (h === 0) c[1]++;
        return (e[k + 2] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
class TinyMul {
  hits = 0;
  e: Int32Array;
  constructor(public p: MmuPmap) { this.e = p.tlbView().entries; }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) * 4;
      const info = e[k + 1];
      if (e[k] === vpn && va === va >>> 0 && ((info >>> access) & 1) === 1 && access === (access & 15) && info >>> 16 === 0) {
        this.hits++;
        return (e[k + 2] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (a'') current compare ((va - off) / 4096), counter
class TinyDiv {
  hits = 0;
  e: Int32Array;
  constructor(public p: MmuPmap) { this.e = p.tlbView().entries; }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const e = this.e;
      const off = va & 4095;
      const k = (va >> 10) & 1020;
      const info = e[k + 1];
      if (e[k] === (va - off) / 4096 && ((info >>> access) & 1) === 1 && access === (access & 15)) {
        this.hits++;
        const low = (e[k + 2] | off) >>> 0;
        return info >>> 16 === 0 ? low : (info >>> 16) * 4294967296 + low;
      }
    }
    return this.p.translate(va, access);
  }
}
// (c) flat TLB indexed by vpn (v86): two words per page, [info, frame]; 2^20 pages = 8 MiB of (lazily committed) memory
class Flat {
  hits = 0;
  f = new Int32Array(2 << 20);
  constructor(public p: MmuPmap) {}
  fillFrom(vas: Uint32Array) {
    const e = this.p.tlbView().entries;
    for (const va of vas) {
      this.p.translate(va, ACCESS);
      const vpn = va >>> 12, k = (vpn & 255) << 2;
      this.f[vpn * 2] = e[k + 1]; this.f[vpn * 2 + 1] = e[k + 2];
    }
  }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const k = (va >>> 12) << 1;
      const f = this.f;
      if (va === va >>> 0 && ((f[k] >>> access) & 1) === 1 && access === (access & 15)) {
        this.hits++;
        return (f[k + 1] | (va & 4095)) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}

const rows: { name: string; op: (i: number) => number }[] = [];
function hitRows(factory: PmapFactory) {
  const n = factory.name;
  const w = workload(HIT_PAGES, 11);
  const vas = w.vas;
  const mk = () => { const u = setup(factory, HIT_PAGES); for (const va of vas) u.translate(va, ACCESS); return u; };
  const u0 = mk();
  rows.push({ name: `${n} current translate`, op: (i) => u0.translate(vas[i & MASK], ACCESS) });
  const ta = new TinyA(mk());
  rows.push({ name: `${n} (a) tiny >>>12 + counter`, op: (i) => ta.translate(vas[i & MASK], ACCESS) });
  const tn = new TinyNoCount(mk());
  rows.push({ name: `${n} (a) tiny >>>12 no counter`, op: (i) => tn.translate(vas[i & MASK], ACCESS) });
  const t1 = new TinyF64(mk());
  rows.push({ name: `${n} (b) F64 counter`, op: (i) => t1.translate(vas[i & MASK], ACCESS) });
  const t2 = new TinyI32(mk());
  rows.push({ name: `${n} (b) I32+carry counter`, op: (i) => t2.translate(vas[i & MASK], ACCESS) });
  const t3 = new TinyMul(mk());
  rows.push({ name: `${n} (a) *4 + counter`, op: (i) => t3.translate(vas[i & MASK], ACCESS) });
  const ts = new TinySlot(mk());
  rows.push({ name: `${n} (b) tiny >>>12 slot counter`, op: (i) => ts.translate(vas[i & MASK], ACCESS) });
  const td = new TinyDiv(mk());
  rows.push({ name: `${n} (a) tiny /4096 + counter`, op: (i) => td.translate(vas[i & MASK], ACCESS) });
  if (n === 'ia32') {
    const fl = new Flat(mk()); fl.fillFrom(vas);
    rows.push({ name: `${n} (c) flat TLB + counter`, op: (i) => fl.translate(vas[i & MASK], ACCESS) });
  }
  if (n === 'ia32') {
    const fn = new FlatNoCount(mk()); fn.fillFrom(vas);
    rows.push({ name: `${n} (c) flat TLB no counter`, op: (i) => fn.translate(vas[i & MASK], ACCESS) });
  }
  const u2 = mk();
  const v2 = u2.tlbView();
  rows.push({
    name: `${n} inline view, no call (miss -1)`,
    op: (i) => {
      const va = vas[i & MASK];
      const k = ((va >>> 12) & v2.mask) << 2;
      const info = v2.entries[k + 1];
      return v2.entries[k] === va >>> 12 && ((info >>> ACCESS) & 1) !== 0 && info >>> 16 === 0
        ? (v2.entries[k + 2] | (va & 4095)) >>> 0
        : -1;
    },
  });
  const u1 = mk();
  const { entries, mask } = u1.tlbView();
  rows.push({
    name: `${n} inline view`,
    op: (i) => {
      const va = vas[i & MASK];
      const k = ((va >>> 12) & mask) << 2;
      const info = entries[k + 1];
      return entries[k] === va >>> 12 && ((info >>> ACCESS) & 1) !== 0 && info >>> 16 === 0
        ? (entries[k + 2] | (va & 4095)) >>> 0
        : u1.translate(va, ACCESS);
    },
  });
  return w;
}
const w = hitRows(sv39);
hitRows(ia32);
const flatArray = new Uint32Array(HIT_PAGES * 1024).fill(1);
const flat = w.flat;
const base = (i: number) => flatArray[flat[i & MASK]];
for (const r of rows) {
  if (only && !r.name.includes(only)) continue;
  const res = measureRow({ name: r.name, candidate: r.op, baseline: base, measure: 'time' });
  console.log(`${r.name.padEnd(34)} ${res.ratio.toFixed(2)}× (${res.spread.min.toFixed(2)}–${res.spread.max.toFixed(2)})  ${res.candidateNs.toFixed(2)} ns / ${res.baselineNs.toFixed(2)} ns`);
}
