// The harness's loop shape around translate (mode t) or the inline tlbView() test, on the built dist/, for
// node --print-opt-code --code-comments proto/asm.mjs [t]
import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import { ia32 } from '../dist/index.js';
const PS = 4096, N = 4096, MASK = N - 1, BASE = 0x400000;
const board = boards.get('ia32-pc-32m'); const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: PS });
const u = ia32.createUser(ia32.createKernel(mem, alloc, board));
for (let p = 0; p < 64; p++) u.enter(alloc.alloc(PS, { owner: PageOwner.APP }).pa, BASE + p * PS, 0x17);
const vas = new Uint32Array(N); for (let i = 0; i < N; i++) vas[i] = BASE + ((i * 7) % 64) * PS + (i % 1024) * 4;
const ACCESS = 9;
const { entries, mask } = u.tlbView();
const op = (i) => { const va = vas[i & MASK]; const k = ((va >>> 12) & mask) << 2; const info = entries[k + 1];
  return entries[k] === va >>> 12 && ((info >>> ACCESS) & 1) !== 0 && info >>> 16 === 0 ? (entries[k + 2] | (va & 4095)) >>> 0 : u.translate(va, ACCESS); };
const mode = process.argv[2];
const op2 = (i) => u.translate(vas[i & MASK], ACCESS);
const loop = new Function('op', 'n', '"use strict"; let s = 0; for (let i = 0; i < n; i++) s = (s + op(i)) | 0; return s; //# sourceURL=theloop.js');
const o = mode === 't' ? op2 : op;
let r = 0; for (let j = 0; j < 3000; j++) r ^= loop(o, 10000);
console.log(r);
