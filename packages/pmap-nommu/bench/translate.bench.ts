/*
 * pmap-nommu benchmark (DESIGN §5, translate): random accesses checked by `translate` against `Uint32Array` reads at
 * the same indices, in the same run. There is no TLB on an MPU: every access is a region lookup (highest enabled
 * region first) plus the board check, so there is one figure per privilege, not a hit and a miss one.
 * Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them. It cannot import
 * the harness (testkit depends on pmap-nommu), so the rows are plain objects of the harness's `BenchRow` shape.
 */
import { Access, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { MpuAp, armv7m } from '../src/index.js';

export const title = 'translation on an MPU (stm32-512k, 8 enabled regions, random SRAM words)';

const N = 4096;
const MASK = N - 1;
const SRAM = 0x2000_0000;
const SRAM_SIZE = 512 * 1024;

export default function* suite(): Generator<object> {
  const board = boards.get('stm32-512k');
  const mem = new PhysicalMemory(board);
  const kernel = armv7m.createKernel(mem, new PageAllocator(mem, { pageSize: armv7m.pageSize }), board);
  const user = armv7m.createUser(kernel);
  // Five more regions in the free slots (stack guards), so that a lookup walks a full 8-region MPU.
  for (let n = 3; n < 8; n++) {
    kernel.mpu.program(n, { base: SRAM + 0x1_0000 * n, size: 512, ap: MpuAp.NO_ACCESS, xn: true });
    user.addRegion(n);
  }
  user.activate();

  let s = 42;
  const vas = new Float64Array(N);
  const idx = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const off = (s % (SRAM_SIZE / 4)) * 4;
    vas[i] = SRAM + off;
    idx[i] = off >>> 2;
  }
  const words = new Uint32Array(SRAM_SIZE / 4);
  for (let i = 0; i < words.length; i++) words[i] = i;
  const read = (i: number) => words[idx[i & MASK]];
  const access = Access.READ | Access.USER;
  yield {
    name: 'translate, user read, 8 regions vs Uint32Array read',
    candidate: (i: number) => user.translate(vas[i & MASK], access),
    baseline: read,
    measure: 'time',
  };
  yield {
    name: 'translate, supervisor read (background map) vs read',
    candidate: (i: number) => kernel.translate(vas[i & MASK], Access.READ),
    baseline: read,
    measure: 'time',
  };
}
