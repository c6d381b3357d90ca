// A TLB-miss loop on the built dist/ for profiling (npx tsup first):
//   FMT=sv39 perf record -k 1 node --perf-prof proto/missprof.mjs && perf inject --jit ... && perf annotate ...
import { PageAllocator, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import * as M from '../dist/index.js';
const f = M[process.env.FMT ?? 'sv39'];
const PS = 4096, N = 4096, MASK = N - 1, BASE = 0x400000;
const board = boards.get(f.defaultBoard); const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: PS });
const u = f.createUser(f.createKernel(mem, alloc, board));
const frames = []; for (let i = 0; i < 2048; i++) frames.push(alloc.alloc(PS, { owner: PageOwner.APP }).pa);
for (let p = 0; p < 16384; p++) u.enter(frames[p % 2048], BASE + p * PS, 0x17);
let s0 = 13; const next = () => (s0 = (Math.imul(s0, 1664525) + 1013904223) >>> 0);
const vas = new Uint32Array(N); for (let i = 0; i < N; i++) { const page = (next() >>> 10) % 16384; const word = (next() >>> 12) % 1024; vas[i] = BASE + page * PS + word * 4; }
const op = (i) => u.translate(vas[i & MASK], 9);
const loop = new Function('op', 'n', '"use strict"; let s = 0; for (let i = 0; i < n; i++) s = (s + op(i)) | 0; return s; //# sourceURL=theloop.js');
let r = 0; for (let j = 0; j < 200; j++) r ^= loop(op, 20000);
const t0 = process.hrtime.bigint(); for (let j = 0; j < 300; j++) r ^= loop(op, 20000);
console.log(Number(process.hrtime.bigint() - t0) / 6e6, 'ns/miss', r);
