// Second-pass prototype bench: this package's translate against the first pass's (commit a1044b9), same process,
// uint32 addresses, one format per process. Set up the copy first:
//   mkdir -p proto/old && git archive a1044b9 src | tar -x -C proto/old
// then: FMT=sv39 node --expose-gc --import tsx ../testkit/src/bench-cli.ts proto/miss.bench.ts (or FMT=ia32).
import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import * as NEW from '../src/index.js';
import * as OLD from './old/src/index.js';
import type { MmuPmap } from '../src/index.js';
const PS = 4096, N = 4096, MASK = N - 1, BASE = 0x40_0000;
const RWU = PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER;
const ACCESS = Access.READ | Access.USER;
function setup(factory: PmapFactory, pages: number) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: PS });
  const user = factory.createUser(factory.createKernel(mem, alloc, board)) as MmuPmap;
  const frames: number[] = [];
  for (let i = 0; i < Math.min(pages, 2048); i++) frames.push(alloc.alloc(PS, { owner: PageOwner.APP })!.pa);
  for (let p = 0; p < pages; p++) user.enter(frames[p % frames.length], BASE + p * PS, RWU);
  return user;
}
function workload(pages: number, seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const vas = new Uint32Array(N);
  for (let i = 0; i < N; i++) { const page = (next() >>> 10) % pages; const word = (next() >>> 12) % 1024; vas[i] = BASE + page * PS + word * 4; }
  return vas;
}
function opNew(u: MmuPmap, vas: Uint32Array) { return (i: number) => u.translate(vas[i & MASK], ACCESS); }
function opOld(u: MmuPmap, vas: Uint32Array) { return (i: number) => u.translate(vas[i & MASK], ACCESS); }
const which = process.env.FMT ?? 'sv39';
export default function* () {
  const nf = (NEW as any)[which] as PmapFactory, of = (OLD as any)[which] as PmapFactory;
  const mw = workload(16384, 13), hw = workload(64, 11);
  yield { name: `${which} miss new vs old`, candidate: opNew(setup(nf, 16384), mw), baseline: opOld(setup(of, 16384), mw), measure: 'time' };
  yield { name: `${which} hit new vs old`, candidate: opNew(setup(nf, 64), hw), baseline: opOld(setup(of, 64), hw), measure: 'time' };
}
