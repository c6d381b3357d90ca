/*
 * phys benchmarks (DESIGN §5): page alloc+free with 50 % of RAM live and fragmented, against a bare typed-array
 * stack and against the floor (the stack plus one read-modify-write of the freed frame's state), on riscv-virt-64m
 * and riscv-virt-4g; bursty and mixed-order rows; boot time and host memory of riscv-virt-4g against a 1 TiB board
 * (lazy sections), host memory per touched frame.
 * Run by testkit's harness (`npm run bench`): this module yields rows, the harness times them. It cannot import
 * the harness (testkit depends on phys), so the rows are plain objects of the harness's `BenchRow` shape.
 */
import { BoardMemoryMap, PageAllocator, PhysicalMemory, boards } from '../src/index.js';
import type { Frame } from '../src/index.js';

export const title = 'page allocator (1-page rows: 50 % of RAM live, fragmented)';

const PAGE = 4096;
const STATE_FREE = 0x8000;

// A fixed pseudo-random sequence, stepped inline in every loop so the allocator and its baselines choose alike.
const A = 1664525;
const C = 1013904223;

function fragmented(boardName: string) {
  const board = boards.get(boardName);
  const alloc = new PageAllocator(new PhysicalMemory(board), { pageSize: PAGE });
  const all: Frame[] = [];
  for (let f = alloc.alloc(PAGE); f; f = alloc.alloc(PAGE)) all.push(f);
  // Free every other page in a shuffled order: half of RAM stays live, and no two free pages are buddies.
  let s = 7;
  const live: Frame[] = [];
  const dead: Frame[] = [];
  all.forEach((f, i) => (i % 2 === 0 ? live : dead).push(f));
  for (let i = dead.length - 1; i > 0; i--) {
    s = (Math.imul(s, A) + C) >>> 0;
    const j = s % (i + 1);
    [dead[i], dead[j]] = [dead[j], dead[i]];
  }
  for (const f of dead) alloc.free(f);
  alloc.check();
  const base = all.reduce((m, f) => Math.min(m, f.pa), Infinity);
  const frameNo = (pa: number) => (pa - base) / PAGE;
  return { alloc, live, dead, frames: all.length, frameNo };
}

/** The bare baseline: live frame numbers in an Int32Array, free ones on a typed-array stack. */
function stackState(f: ReturnType<typeof fragmented>) {
  const stack = new Int32Array(f.frames);
  let top = 0;
  // The stack hands out frames in the order the allocator's free lists would: the shuffled dead pages.
  for (let i = f.dead.length - 1; i >= 0; i--) stack[top++] = f.frameNo(f.dead[i].pa);
  const live = Int32Array.from(f.live, (x) => f.frameNo(x.pa));
  return { stack, top, live };
}

function* allocFree(boardName: string, stackTarget: number): Generator<object> {
  const f = fragmented(boardName);
  const n = f.live.length;
  const { alloc } = f;
  // The caller keeps its live frames as page numbers (pa / PAGE) in an Int32Array, as both baselines keep theirs:
  // the same 4 bytes per live frame and the same random access to them, so a ratio compares allocators, not
  // callers' arrays (addresses of riscv-virt-4g need a Float64Array, twice the bytes: the informational row below).
  const pns = Int32Array.from(f.live, (x) => x.pa / PAGE);
  let sa = 1;
  const candidate = () => {
    sa = (Math.imul(sa, A) + C) >>> 0;
    const pa = alloc.allocPa(PAGE);
    const k = sa % n;
    alloc.freePa(pns[k] * PAGE);
    pns[k] = pa / PAGE;
    return pa;
  };
  const pas = Float64Array.from(f.live, (x) => x.pa);
  let sp = 1;
  const byAddress = () => {
    sp = (Math.imul(sp, A) + C) >>> 0;
    const pa = alloc.allocPa(PAGE);
    const k = sp % n;
    alloc.freePa(pas[k]);
    pas[k] = pa;
    return pa;
  };
  const b = stackState(f);
  const { stack, live } = b;
  let top = b.top;
  let sb = 1;
  const stackOp = () => {
    sb = (Math.imul(sb, A) + C) >>> 0;
    const i = stack[--top];
    const k = sb % n;
    stack[top++] = live[k];
    live[k] = i;
    return i;
  };
  const fl = stackState(f);
  const fStack = fl.stack;
  const fLive = fl.live;
  let fTop = fl.top;
  const state = new Uint16Array(f.frames);
  let sf = 1;
  const floorOp = () => {
    sf = (Math.imul(sf, A) + C) >>> 0;
    const i = fStack[--fTop];
    const k = sf % n;
    const freed = fLive[k];
    // The one access to per-frame state that a free cannot avoid: mark the freed frame free (a random frame).
    state[freed] = state[freed] ^ STATE_FREE;
    fStack[fTop++] = freed;
    fLive[k] = i;
    return i;
  };
  yield { name: `allocPa+freePa vs stack, ${boardName}`, candidate, baseline: stackOp, target: { atLeast: stackTarget } };
  yield { name: `allocPa+freePa vs floor, ${boardName}`, candidate, baseline: floorOp, target: { atLeast: 0.5 } };
  // Sync the two callers' views (each holds its own copy of the live set), then the address-holding caller.
  for (let i = 0; i < n; i++) pas[i] = pns[i] * PAGE;
  yield { name: `allocPa+freePa, caller holds addresses (Float64Array), vs floor, ${boardName}`, candidate: byAddress, baseline: floorOp };
  alloc.check();
  // The same workload through Frame values, on its own identically fragmented allocator.
  const g = fragmented(boardName);
  const frames = g.live;
  let sc = 1;
  const byFrame = () => {
    sc = (Math.imul(sc, A) + C) >>> 0;
    const x = g.alloc.alloc(PAGE)!;
    const k = sc % n;
    g.alloc.free(frames[k]);
    frames[k] = x;
    return x.pa;
  };
  yield { name: `alloc+free (Frame values) vs stack, ${boardName}`, candidate: byFrame, baseline: stackOp };
  g.alloc.check();
}

/**
 * The 1-page row of riscv-virt-64m with reclaim's hooks in use: one live frame mapped, LRU words in its section,
 * watermarks and a low-memory callback set (low below what the workload reaches, so the callback never runs).
 * Every freePa takes the checked path then (it must look at mapping counts and clear LRU words).
 */
function* allocFreeHooks(): Generator<object | string> {
  const f = fragmented('riscv-virt-64m');
  const { alloc } = f;
  const n = f.live.length;
  alloc.setWatermarks({ min: 16, low: 32, high: 64 });
  let calls = 0;
  alloc.onLowMemory = () => calls++;
  const pinnedLive = f.live[0].pa;
  alloc.addMapping(pinnedLive);
  alloc.setLru(pinnedLive, 1);
  // Slot 0 stays live (mapped) for the whole row: the workload frees slots 1..n-1.
  const pns = Int32Array.from(f.live, (x) => x.pa / PAGE);
  let sa = 1;
  const candidate = () => {
    sa = (Math.imul(sa, A) + C) >>> 0;
    const pa = alloc.allocPa(PAGE);
    const k = 1 + (sa % (n - 1));
    alloc.freePa(pns[k] * PAGE);
    pns[k] = pa / PAGE;
    return pa;
  };
  const fl = stackState(f);
  const fStack = fl.stack;
  const fLive = fl.live;
  let fTop = fl.top;
  const state = new Uint16Array(f.frames);
  let sf = 1;
  const floorOp = () => {
    sf = (Math.imul(sf, A) + C) >>> 0;
    const i = fStack[--fTop];
    const k = 1 + (sf % (n - 1));
    const freed = fLive[k];
    state[freed] = state[freed] ^ STATE_FREE;
    fStack[fTop++] = freed;
    fLive[k] = i;
    return i;
  };
  yield { name: 'allocPa+freePa vs floor, riscv-virt-64m, reclaim hooks in use (freePa checked)', candidate, baseline: floorOp };
  alloc.check();
  if (calls !== 0 || alloc.mapCount(pinnedLive) !== 1) yield 'unexpected low-memory callback or mapping count';
}

function* bursty(burst: number): Generator<object> {
  const f = fragmented('riscv-virt-64m');
  const { alloc } = f;
  const held = new Float64Array(burst);
  // Each op is one allocation (first half of a cycle) or one free (second half, in allocation order); the op
  // count runs on across the harness's runs, so a run may end mid-burst.
  let ia = 0;
  const candidate = () => {
    const i = ia;
    ia = i + 1 === 2 * burst ? 0 : i + 1;
    const j = i % burst;
    if (i >= burst) {
      alloc.freePa(held[j]);
      return j;
    }
    return (held[j] = alloc.allocPa(PAGE));
  };
  const b = stackState(f);
  const { stack } = b;
  let top = b.top;
  const heldB = new Int32Array(burst);
  let ib = 0;
  const baseline = () => {
    const i = ib;
    ib = i + 1 === 2 * burst ? 0 : i + 1;
    const j = i % burst;
    if (i >= burst) {
      stack[top++] = heldB[j];
      return j;
    }
    return (heldB[j] = stack[--top]);
  };
  yield { name: `bursts of ${burst} allocPa then ${burst} freePa vs stack, 64m`, candidate, baseline, target: { atLeast: 0.25 } };
  alloc.check();
}

function* mixedOrders(): Generator<object> {
  // 2048 live blocks of 1..16 pages: about 12 000 pages, 3/4 of a 64 MiB board.
  const LIVE = 2048;
  const alloc = new PageAllocator(new PhysicalMemory(boards.get('riscv-virt-64m')), { pageSize: PAGE });
  let s = 3;
  const live = new Float64Array(LIVE);
  for (let i = 0; i < LIVE; i++) {
    s = (Math.imul(s, A) + C) >>> 0;
    live[i] = alloc.allocPa(PAGE << (s % 5));
  }
  const SLOTS = 1 << 16;
  const stacks = new Int32Array(5 * SLOTS);
  const tops = new Int32Array(5);
  const stackLive = new Int32Array(LIVE);
  const stackOrder = new Uint8Array(LIVE);
  for (let o = 0; o < 5; o++) for (let i = 0; i < 8192; i++) stacks[o * SLOTS + tops[o]++] = o * 100000 + i;
  for (let i = 0; i < LIVE; i++) {
    s = (Math.imul(s, A) + C) >>> 0;
    const o = s % 5;
    stackOrder[i] = o;
    stackLive[i] = stacks[o * SLOTS + --tops[o]];
  }
  let sa = 4;
  const candidate = () => {
    sa = (Math.imul(sa, A) + C) >>> 0;
    const k = sa % LIVE;
    alloc.freePa(live[k]);
    return (live[k] = alloc.allocPa(PAGE << ((sa >>> 12) % 5)));
  };
  let sb = 4;
  const baseline = () => {
    sb = (Math.imul(sb, A) + C) >>> 0;
    const k = sb % LIVE;
    const o = (sb >>> 12) % 5;
    const old = stackOrder[k];
    stacks[old * SLOTS + tops[old]++] = stackLive[k];
    stackOrder[k] = o;
    return (stackLive[k] = stacks[o * SLOTS + --tops[o]]);
  };
  yield { name: 'mixed orders 0–4 allocPa+freePa vs per-order stacks, 64m', candidate, baseline, target: { atLeast: 0.25 } };
  alloc.check();
}

/** riscv-virt-4g with 1 TiB of DRAM: the same devices and reserved firmware/kernel, RAM to 0x100_8000_0000. */
function riscvVirt1t(): BoardMemoryMap {
  const regions = boards.get('riscv-virt-4g').regions.map((r) => (r.name === 'dram' ? { ...r, size: 2 ** 40 - 3 * 2 ** 20 } : r));
  return new BoardMemoryMap(regions, 'riscv-virt-1t');
}

function* hostMemory(): Generator<object | string> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    yield 'host memory: run with node --expose-gc to measure';
    return;
  }
  const used = () => {
    // Array buffers are swept after the collection that frees them: collect until the figure settles.
    for (let i = 0; i < 4; i++) gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  // A note first: the harness lets go of the previous row (mixedOrders' 1.3 MB of typed arrays) only when this
  // generator yields, and that row's buffers would be freed in the middle of the measurements below.
  yield 'host memory: heapUsed + arrayBuffers after gc()';
  const board4g = boards.get('riscv-virt-4g');
  const board1t = riscvVirt1t();
  const pas = new Float64Array((4 * 2 ** 30) / PAGE); // room for every frame of the 4 GiB board
  const boot = (board: BoardMemoryMap) => new PageAllocator(new PhysicalMemory(board), { pageSize: PAGE });
  boot(board4g);
  boot(board1t);
  // Every figure is measured before the first yield: the harness may let go of earlier rows while it reports one,
  // and their garbage would be collected into a later delta.
  const m0 = used();
  const alloc = boot(board4g);
  const m1 = used();
  const big = boot(board1t);
  const m2 = used();
  let n = 0;
  for (let pa = alloc.allocPa(PAGE); pa >= 0; pa = alloc.allocPa(PAGE)) pas[n++] = pa;
  const m3 = used();
  yield { name: 'boot host memory, riscv-virt-4g', value: (m1 - m0) / 2 ** 20, unit: 'MiB', target: { atMost: 1 } };
  yield { name: 'boot host memory, 1 TiB (riscv-virt-4g with 1 TiB of DRAM)', value: (m2 - m1) / 2 ** 20, unit: 'MiB', target: { atMost: 1 } };
  yield `riscv-virt-4g: ${n} frames allocated one by one`;
  // Reclaim's hooks on every frame: a mapping count and a nonzero LRU word each (their arrays are per section).
  for (let i = 0; i < n; i++) {
    alloc.addMapping(pas[i]);
    alloc.setLru(pas[i], i + 1);
  }
  const m4 = used();
  yield { name: 'host memory per touched frame, riscv-virt-4g', value: (m3 - m0 - (m2 - m1)) / n, unit: 'B/frame', target: { atMost: 10 } };
  yield {
    name: 'host memory per touched frame, mapping counts and LRU words in use, riscv-virt-4g',
    value: (m4 - m0 - (m2 - m1)) / n,
    unit: 'B/frame',
    target: { atMost: 16 },
  };
  // Keeps `pas` (and both allocators) alive until after the last measurement.
  if (alloc.info().free !== 0 || big.info().total !== 2 ** 40 || pas[n - 1] < 0 || alloc.mapCount(pas[n - 1]) !== 1) yield 'unexpected free memory';
}

function* bootTime(): Generator<object> {
  const board4g = boards.get('riscv-virt-4g');
  const board1t = riscvVirt1t();
  const boot = (board: BoardMemoryMap) => new PageAllocator(new PhysicalMemory(board), { pageSize: PAGE });
  yield {
    name: 'boot time, 1 TiB vs riscv-virt-4g',
    candidate: () => boot(board1t).maxOrder,
    baseline: () => boot(board4g).maxOrder,
    measure: 'time',
    target: { atMost: 2 },
  };
}

// Each kind of row runs on a JIT and a heap the others have not shaped: boots first (measured after the
// fragmented 4 GiB set-ups they are dominated by collections of that garbage), the host-memory rows last (filling
// riscv-virt-4g page by page leaves allocPa's type feedback shaped by a million refills, and timing rows measured
// after it in the same process run about a third slower).
export default function* suite(): Generator<object | string> {
  yield* bootTime();
  yield* allocFree('riscv-virt-64m', 0.4);
  yield* allocFree('riscv-virt-4g', 0.33);
  yield* allocFreeHooks();
  yield* bursty(64);
  yield* bursty(1024);
  yield* mixedOrders();
  yield* hostMemory();
}
