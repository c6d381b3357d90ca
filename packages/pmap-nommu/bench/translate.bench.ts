/*
 * pmap-nommu benchmark (DESIGN §5, translate): random accesses checked by `translate` against `Uint32Array` reads at
 * the same indices, in the same run. There is no TLB on an MPU: every access is a region lookup (highest enabled
 * region first) plus the board check, so there is one figure per privilege, not a hit and a miss one.
 * Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them. It cannot import
 * the harness (testkit depends on pmap-nommu), so the rows are plain objects of the harness's `BenchRow` shape.
 */
import { Access, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { Armv8mAp, MpuAp, armv7m, armv8m } from '../src/index.js';

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

  // armv8m on cortex-m33-256k: 16 enabled regions (12 of them 96-byte guards away from SRAM1, which PMSAv8 would
  // fault on if they overlapped it), so a miss scans them all for overlaps; the same SRAM1 words.
  const m33 = boards.get(armv8m.defaultBoard);
  const m33mem = new PhysicalMemory(m33);
  const k8 = armv8m.createKernel(m33mem, new PageAllocator(m33mem, { pageSize: armv8m.pageSize }), m33);
  const u8 = armv8m.createUser(k8);
  for (let n = 4; n < 16; n++) {
    const base = 0x3000_0000 + 0x1000 * n;
    k8.mpu.program(n, { base, limit: base + 95, ap: Armv8mAp.PRIV_RO, xn: true });
    u8.addRegion(n);
  }
  u8.activate();
  const sram1 = new Float64Array(N);
  for (let i = 0; i < N; i++) sram1[i] = SRAM + (vas[i] - SRAM) % (192 * 1024);
  yield {
    name: 'armv8m translate, user read, 16 regions vs read',
    candidate: (i: number) => u8.translate(sram1[i & MASK], access),
    baseline: read,
    measure: 'time',
  };
}
