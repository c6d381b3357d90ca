// Third pass: prototypes of a TLB entry whose hit test needs fewer loads (README, "Prototypes of the hit path"),
// measured with testkit's harness on the built dist/ (npx tsup first), one format per process:
//   FMT=ia32 node --expose-gc --import tsx proto/hit-proto2.ts [row filter]   (or FMT=sv39)
// Each prototype keeps its own array, filled from the real TLB after the hit set was translated once; its miss
// path calls the pmap's translate. The entry word is v86's: `((pa ^ va) & -4096) | kinds`, kinds = the access kinds
// allowed in supervisor mode (bits 0–2) and in user mode (bits 8–10); an access `a` needs `(a & 7) << (a & 8)`.
import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { measureRow } from '../../testkit/src/bench/harness.js';
import { ia32, sv39 } from '../dist/index.js';
import type { MmuPmap } from '../dist/index.js';

const PS = 4096, N = 4096, MASK = N - 1, HIT_PAGES = 64, BASE = 0x40_0000;
const RWU = PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER;
const ACCESS = Access.READ | Access.USER;
const only = process.argv[2];
const factory: PmapFactory = process.env.FMT === 'sv39' ? sv39 : ia32;

function setup(pages: number) {
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

// Fills `put(vpn, word)` for the pages of `vas` from the pmap's own answers: the frame from translate, the kinds
// the measured access needs (user READ, bit 8). Independent of the real TLB's layout.
function fillFrom(p: MmuPmap, vas: Uint32Array, put: (vpn: number, word: number) => void) {
  const need = (ACCESS & 7) << (ACCESS & 8);
  for (const va of vas) {
    const vpn = va >>> 12;
    const pa = p.translate(vpn * PS, ACCESS);
    if (pa < 0) throw new Error('not mapped');
    put(vpn, ((pa ^ (vpn << 12)) & -4096) | need);
  }
}

// (d) v86's flat TLB: one int32 per page (2^20 pages: 4 MiB), one load per hit.
class Flat1 {
  hits = 0;
  f = new Int32Array(1 << 20);
  constructor(public p: MmuPmap, vas: Uint32Array) { fillFrom(p, vas, (v, w) => (this.f[v] = w)); }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const w = this.f[va >>> 12];
      if ((w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        this.hits++;
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
class Flat1NoCount {
  f = new Int32Array(1 << 20);
  constructor(public p: MmuPmap, vas: Uint32Array) { fillFrom(p, vas, (v, w) => (this.f[v] = w)); }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const w = this.f[va >>> 12];
      if ((w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (e) direct-mapped, 256 slots of four int32s: tag, then the combined word in the adjacent int32 (two loads).
class Direct2 {
  hits = 0;
  e = new Int32Array(1024).fill(-1);
  constructor(public p: MmuPmap, vas: Uint32Array) {
    fillFrom(p, vas, (v, w) => { const k = (v & 255) << 2; this.e[k] = v; this.e[k + 1] = w; });
  }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const w = e[k + 1];
      if (e[k] === vpn && (w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        this.hits++;
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
class Direct2NoCount {
  e = new Int32Array(1024).fill(-1);
  constructor(public p: MmuPmap, vas: Uint32Array) {
    fillFrom(p, vas, (v, w) => { const k = (v & 255) << 2; this.e[k] = v; this.e[k + 1] = w; });
  }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const w = e[k + 1];
      if (e[k] === vpn && (w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (e) with two-int32 slots (8 bytes: eight slots a cache line) instead of four.
class Direct2Narrow {
  hits = 0;
  e = new Int32Array(512).fill(-1);
  constructor(public p: MmuPmap, vas: Uint32Array) {
    fillFrom(p, vas, (v, w) => { const k = (v & 255) << 1; this.e[k] = v; this.e[k + 1] = w; });
  }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 1;
      const w = e[k + 1];
      if (e[k] === vpn && (w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        this.hits++;
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}

// (e) with the hit counted per slot, in a Float64Array of its own (exact to 2^53; stats() would sum it): a hit's
// increment depends on the previous hit's only when both fall in the same slot.
class Direct2SlotF64 {
  e = new Int32Array(1024).fill(-1);
  c = new Float64Array(256);
  constructor(public p: MmuPmap, vas: Uint32Array) {
    fillFrom(p, vas, (v, w) => { const k = (v & 255) << 2; this.e[k] = v; this.e[k + 1] = w; });
  }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const w = e[k + 1];
      if (e[k] === vpn && (w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        this.c[vpn & 255]++;
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (e) with the hit counted in the slot's own spare int32 (word 3): no array of its own.
class Direct2SlotWord {
  e = new Int32Array(1024).fill(-1);
  constructor(public p: MmuPmap, vas: Uint32Array) {
    fillFrom(p, vas, (v, w) => { const k = (v & 255) << 2; this.e[k] = v; this.e[k + 1] = w; });
  }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const vpn = va >>> 12;
      const e = this.e;
      const k = (vpn & 255) << 2;
      const w = e[k + 1];
      if (e[k] === vpn && (w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        e[k + 3]++;
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}
// (d) flat with the hit counted in a Float64Array(256) by vpn & 255.
class Flat1SlotF64 {
  f = new Int32Array(1 << 20);
  c = new Float64Array(256);
  constructor(public p: MmuPmap, vas: Uint32Array) { fillFrom(p, vas, (v, w) => (this.f[v] = w)); }
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const need = (access & 7) << (access & 8);
      const w = this.f[va >>> 12];
      if ((w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        this.c[(va >>> 12) & 255]++;
        return ((w & -4096) ^ va) >>> 0;
      }
    }
    return this.p.translate(va, access);
  }
}

const rows: { name: string; op: (i: number) => number }[] = [];
const n = factory.name;
const w = workload(HIT_PAGES, 11);
const vas = w.vas;
const mk = () => setup(HIT_PAGES);
{
  const u0 = mk();
  for (const va of vas) u0.translate(va, ACCESS);
  rows.push({ name: `${n} current translate`, op: (i) => u0.translate(vas[i & MASK], ACCESS) });
  const u1 = mk();
  const { entries, mask } = u1.tlbView();
  const NEED = (ACCESS & 7) << (ACCESS & 8);
  rows.push({
    // The exported rule since the third pass (README, "The exported fast path"): tag and hit word, two loads.
    name: `${n} current inline view`,
    op: (i) => {
      const va = vas[i & MASK];
      const k = ((va >>> 12) & mask) << 2;
      const w = entries[k + 1];
      return entries[k] === va >>> 12 && (w & NEED) === NEED ? ((w & -4096) | (va & 4095)) >>> 0 : u1.translate(va, ACCESS);
    },
  });
}
if (n === 'ia32') {
  const a = new Flat1(mk(), vas);
  rows.push({ name: `${n} (d) flat 1-load translate + counter`, op: (i) => a.translate(vas[i & MASK], ACCESS) });
  const a3 = new Flat1SlotF64(mk(), vas);
  rows.push({ name: `${n} (d) flat 1-load translate, slot F64 counter`, op: (i) => a3.translate(vas[i & MASK], ACCESS) });
  const b = new Flat1NoCount(mk(), vas);
  rows.push({ name: `${n} (d) flat 1-load translate, no counter`, op: (i) => b.translate(vas[i & MASK], ACCESS) });
  const c = new Flat1(mk(), vas);
  const tlb = c.f;
  const NEED = (ACCESS & 7) << (ACCESS & 8);
  rows.push({
    name: `${n} (d) flat 1-load inline`,
    op: (i) => {
      const va = vas[i & MASK];
      const e = tlb[va >>> 12];
      return (e & NEED) === NEED ? ((e & -4096) ^ va) >>> 0 : c.p.translate(va, ACCESS);
    },
  });
  const d = new Flat1(mk(), vas);
  const tlb2 = d.f;
  rows.push({
    name: `${n} (d) flat 1-load inline, miss -1`,
    op: (i) => {
      const va = vas[i & MASK];
      const e = tlb2[va >>> 12];
      return (e & NEED) === NEED ? ((e & -4096) ^ va) >>> 0 : -1;
    },
  });
}
{
  const a = new Direct2(mk(), vas);
  rows.push({ name: `${n} (e) direct 2-load translate + counter`, op: (i) => a.translate(vas[i & MASK], ACCESS) });
  const b = new Direct2NoCount(mk(), vas);
  rows.push({ name: `${n} (e) direct 2-load translate, no counter`, op: (i) => b.translate(vas[i & MASK], ACCESS) });
  const a4 = new Direct2SlotF64(mk(), vas);
  rows.push({ name: `${n} (e) direct 2-load, slot F64 counter`, op: (i) => a4.translate(vas[i & MASK], ACCESS) });
  const a5 = new Direct2SlotWord(mk(), vas);
  rows.push({ name: `${n} (e) direct 2-load, counter in word 3`, op: (i) => a5.translate(vas[i & MASK], ACCESS) });
  const a2 = new Direct2Narrow(mk(), vas);
  rows.push({ name: `${n} (e) direct 2-load, 8-byte slots + counter`, op: (i) => a2.translate(vas[i & MASK], ACCESS) });
  const c = new Direct2(mk(), vas);
  const tlb = c.e;
  const NEED = (ACCESS & 7) << (ACCESS & 8);
  rows.push({
    name: `${n} (e) direct 2-load inline`,
    op: (i) => {
      const va = vas[i & MASK];
      const vpn = va >>> 12;
      const k = (vpn & 255) << 2;
      const e = tlb[k + 1];
      return tlb[k] === vpn && (e & NEED) === NEED ? ((e & -4096) ^ va) >>> 0 : c.p.translate(va, ACCESS);
    },
  });
  const d = new Direct2(mk(), vas);
  const tlb2 = d.e;
  rows.push({
    name: `${n} (e) direct 2-load inline, miss -1`,
    op: (i) => {
      const va = vas[i & MASK];
      const vpn = va >>> 12;
      const k = (vpn & 255) << 2;
      const e = tlb2[k + 1];
      return tlb2[k] === vpn && (e & NEED) === NEED ? ((e & -4096) ^ va) >>> 0 : -1;
    },
  });
}
const flatArray = new Uint32Array(HIT_PAGES * 1024).fill(1);
const flat = w.flat;
const base = (i: number) => flatArray[flat[i & MASK]];
for (const r of rows) {
  if (only && !r.name.includes(only)) continue;
  const res = measureRow({ name: r.name, candidate: r.op, baseline: base, measure: 'time' });
  console.log(`${r.name.padEnd(46)} ${res.ratio.toFixed(2)}× (${res.spread.min.toFixed(2)}–${res.spread.max.toFixed(2)})  ${res.candidateNs.toFixed(2)} ns / ${res.baselineNs.toFixed(2)} ns`);
}
