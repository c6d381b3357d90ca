import { MapFlags, Prot } from '@vmlayers/phys';
import type { Process } from '@vmlayers/memobj';
import { addr, bytes, shown } from './format.js';
import { markerCounts } from './page-map.js';
import { attempt } from './session.js';
import type { Session } from './session.js';
import type { Step } from './step.js';

const enc = (s: string) => new TextEncoder().encode(s);
const RW = Prot.READ | Prot.WRITE;

/** The text of the program image the scenario maps: two pages, the first one read by both processes. */
const PROGRAM = 'main: li a0, 42; ecall  # the program image, shared read-only';

/**
 * Runs the narrated scenario ({@link scenarioSteps}) to its end; every step is emitted as it ends. Returns the
 * session, for the report.
 */
export function runScenario(session: Session): Session {
  for (const _ of scenarioSteps(session));
  return session;
}

/**
 * The narrated scenario, one step at a time: boot → two processes → anonymous memory touched → a program image mapped read-only by
 * both → fork → copy-on-write in the child → a shared page written by one and read by the other → mprotect and a
 * protection fault → exit → meminfo back at its boot figures. Without an MMU fork is refused (`ENOSYS`) and the
 * processes share a common object instead. Yields each step as it ends (after the session emitted it; `null` for
 * a quiet session), so a caller can stop between steps with the vm in exactly that step's state (the playground
 * steps through it so).
 */
export function* scenarioSteps(session: Session): Generator<Step | null, void, undefined> {
  const { vm, arch } = session;
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;
  const boot = vm.meminfo();

  yield* bootStep(session);

  const a = vm.spawn();
  const b = vm.spawn();
  const afterSpawn = vm.meminfo();
  yield session.step({
    step: 'spawn',
    title: 'spawn two processes',
    what: [`Two processes, pid ${a.pid} and pid ${b.pid}, start with empty address spaces.`],
    why: [
      mmu
        ? `Each has its own page tables; an empty one costs ${(boot.page.free - afterSpawn.page.free) / ps / 2} frame (its root table) and no memory: a process that touches nothing costs nothing.`
        : 'Without an MMU a process is a view of the one shared map: no tables, no frames.',
    ],
    figures: { pids: `${a.pid},${b.pid}`, framesTaken: (boot.page.free - afterSpawn.page.free) / ps },
  });

  // Frames counted from the page map at the last step, after mmap and after the writes: the figures meminfo prints.
  const atSpawn = session.last!.frames;
  const heap = a.mmap({ size: 4 * ps, prot: RW, flags: MapFlags.PRIVATE });
  const shm = a.mmap({ size: ps, prot: RW, flags: MapFlags.SHARED });
  const atMmap = markerCounts(vm.pageMap(), ps);
  const mmapEvents = session.recorder.pendingCount;
  a.write(heap, enc('parent heap'));
  a.write(heap + 2 * ps, enc('more of it'));
  a.write(shm, enc('shared v1'));
  const atTouch = markerCounts(vm.pageMap(), ps);
  const byMmap = framesTaken(atSpawn, atMmap);
  const byTouch = framesTaken(atMmap, atTouch);
  yield session.step({
    step: 'anon',
    title: 'mmap and touch anonymous memory',
    what: [
      `pid ${a.pid} maps 4 private pages at ${addr(heap)} (its heap) and 1 shared page at ${addr(shm)}, then writes to heap pages 0 and 2 and to the shared page.`,
    ],
    why: [
      mmu
        ? `mmap only reserved address space and took ${describeFrames(byMmap)}, for the map entries and the shared object. User frames came on the first touch, one per page touched: the writes took ${describeFrames(byTouch)}. ${byMmap.total + byTouch.total} frames in all, as the meminfo line below counts. Heap pages 1 and 3 still cost nothing.`
        : `Without an MMU nothing can fault in later: mmap took each mapping's whole block at once, zeroed, at its physical address (va = pa): ${describeFrames(byMmap)}. The writes took ${describeFrames(byTouch)}.`,
    ],
    figures: (events) => ({
      heap,
      shm,
      // User memory (frames or blocks for the mappings) taken by mmap, and by the writes that followed.
      userAllocsAtMmap: events.slice(0, mmapEvents).filter((e) => e.type === 'alloc').length,
      userAllocsAtTouch: events.slice(mmapEvents).filter((e) => e.type === 'alloc').length,
      framesAtMmap: byMmap.total,
      framesAtTouch: byTouch.total,
    }),
  });

  const program = vm.createObject(enc(PROGRAM.padEnd(2 * ps, '\0')));
  const textA = a.mmap({ size: 2 * ps, prot: Prot.READ | Prot.EXEC, flags: MapFlags.PRIVATE, object: program });
  const textB = b.mmap({ size: 2 * ps, prot: Prot.READ | Prot.EXEC, flags: MapFlags.PRIVATE, object: program });
  // The mappings hold the object now; it dies with the last of them.
  program.release();
  const readA = a.read(textA, 4);
  const readB = b.read(textB, 4);
  yield session.step({
    step: 'image',
    title: 'map a program image shared read-only',
    what: [
      `A program image (a memory object of ${bytes(2 * ps)}) is mapped read-only and executable by pid ${a.pid} at ${addr(textA)} and by pid ${b.pid} at ${addr(textB)}; each reads its first word (${shown(readA)} and ${shown(readB)}).`,
    ],
    why: [
      mmu
        ? `The object's page cache holds each page once: the first reader's fault brought the page in, the second found it there and mapped the same frame. The second page, never read, has no frame.`
        : `A read-only private mapping of an object is the object's own block, so ${textA === textB ? 'both processes see it at the same address' : 'each process maps it'}: nothing is copied.`,
    ],
    figures: { textA, textB, sameAddress: textA === textB, readA: new TextDecoder().decode(readA), readB: new TextDecoder().decode(readB) },
  });

  let child: Process | null = null;
  const beforeFork = vm.meminfo();
  const forked = attempt(() => a.fork());
  if (forked.ok) {
    child = forked.value;
    const afterFork = vm.meminfo();
    const tableFrames = (beforeFork.page.free - afterFork.page.free) / ps;
    yield session.step({
      step: 'fork',
      title: `fork pid ${a.pid}`,
      what: [`pid ${a.pid} forks: pid ${child.pid} gets a copy of its address space (${vm.maps(child.pid).length} mappings).`],
      why: [
        `Fork copies map entries, not pages and not page tables: it took ${afterFork.map.entries - beforeFork.map.entries} map entries and ${tableFrames} frame${tableFrames === 1 ? '' : 's'} for the child's page-table root; the child's translations come on its faults. Private pages are now shared by both, write-protected in the parent (copy-on-write); the shared page stays shared; the image stays one frame.`,
      ],
      figures: { child: child.pid, parent: a.pid, mappings: vm.maps(child.pid).length, framesTaken: tableFrames, entriesTaken: afterFork.map.entries - beforeFork.map.entries },
    });

    const c = child;
    c.write(heap, enc('child!'));
    const parentSees = a.read(heap, 11);
    const childSees = c.read(heap, 11);
    yield session.step({
      step: 'cow',
      title: `pid ${c.pid} writes its heap: copy-on-write`,
      what: [`pid ${c.pid} writes "child!" at ${addr(heap)}.`],
      why: [
        `pid ${a.pid} still reads ${shown(parentSees)} there and pid ${c.pid} reads ${shown(childSees)}: the copy made the page private to the writer, and only that page was copied.`,
      ],
      figures: (events) => {
        const copy = events.find((e) => e.type === 'cow');
        return {
          copies: events.filter((e) => e.type === 'cow').length,
          copiedFrom: copy?.from ?? null,
          copiedTo: copy?.pa ?? null,
          parentReads: new TextDecoder().decode(parentSees),
          childReads: new TextDecoder().decode(childSees),
        };
      },
    });

    c.write(shm, enc(`written by pid ${c.pid}`));
    const seen = a.read(shm, 16);
    yield session.step({
      step: 'share',
      title: 'a shared mapping written by one, read by the other',
      what: [`pid ${c.pid} writes "written by pid ${c.pid}" in the shared page at ${addr(shm)}; pid ${a.pid} reads ${shown(seen)} at the same address.`],
      why: ['A SHARED mapping is an anonymous memory object both processes map: the write went to the one frame they share, and nothing was copied.'],
      figures: { writer: c.pid, reader: a.pid, reads: new TextDecoder().decode(seen) },
    });
  } else {
    yield session.step({
      step: 'fork',
      title: `fork pid ${a.pid}: refused`,
      what: [`pid ${a.pid} asks to fork: ${forked.message}.`],
      why: [
        'Fork gives the child the same addresses backed by other frames; without an MMU an address is a physical address, so there is no copy-on-write and no fork, as on the original’s no-MMU targets. Processes share memory through a common object instead.',
      ],
      figures: { errno: forked.code },
      error: { code: forked.code, message: forked.message },
    });

    const common = vm.createObject(new Uint8Array(ps));
    const ma = a.mmap({ size: ps, prot: RW, flags: MapFlags.SHARED, object: common });
    const mb = b.mmap({ size: ps, prot: RW, flags: MapFlags.SHARED, object: common });
    common.release();
    b.write(mb, enc(`written by pid ${b.pid}`));
    const seen = a.read(ma, 16);
    yield session.step({
      step: 'share',
      title: 'sharing through a common object',
      what: [
        `A memory object of one page is mapped SHARED by pid ${a.pid} at ${addr(ma)} and by pid ${b.pid} at ${addr(mb)}. pid ${b.pid} writes "written by pid ${b.pid}"; pid ${a.pid} reads ${shown(seen)}.`,
      ],
      why: ['Both mappings are the object’s one block, at one address: what one process writes the other reads, and nothing was copied.'],
      figures: { writer: b.pid, reader: a.pid, reads: new TextDecoder().decode(seen), sameAddress: ma === mb },
    });
  }

  a.mprotect(heap, ps, Prot.READ);
  const denied = attempt(() => a.write(heap, enc('overwrite')));
  const still = a.read(heap, 11);
  yield session.step({
    step: 'protect',
    title: `mprotect and a protection fault`,
    what: [
      `pid ${a.pid} makes the first heap page read-only (mprotect ${addr(heap)}, ${bytes(ps)}, r--): its heap mapping is split in two.`,
      ...(denied.ok ? ['Its write there succeeded (unexpected).'] : []),
    ],
    why: [
      mmu
        ? 'The write-protected PTE made the write fault; the fault handler found the mapping forbids writing and failed the access without calling any memory object, so no page was touched.'
        : 'The MPU and the map’s protection check refused the write in software; nothing was touched.',
      `The page still reads ${shown(still)}.`,
    ],
    figures: { errno: denied.ok ? null : denied.code, stillReads: new TextDecoder().decode(still), heapEntries: vm.maps(a.pid).filter((m) => m.start >= heap && m.end <= heap + 4 * ps).length },
    ...(denied.ok ? {} : { error: { code: denied.code, message: denied.message } }),
  });

  if (vm.meminfo().reclaim !== undefined) yield* workingSetStep(session, b);

  const exiting = [child, a, b].filter((p): p is Process => p !== null);
  const beforeExit = session.last!.frames;
  for (const p of exiting) p.exit();
  const back = framesTaken(markerCounts(vm.pageMap(), ps), beforeExit);
  yield session.step({
    step: 'exit',
    title: 'exit',
    what: [`pid ${exiting.map((p) => p.pid).join(', pid ')} exit.`],
    why: [
      `Exit destroys each map: every private page, page-table frame and map entry goes back, and an object dies with its last mapping. The exits gave back ${describeFrames(back)}.`,
    ],
    figures: { exited: exiting.length, framesBack: back.total },
  });

  const end = vm.meminfo();
  const same = end.page.free === boot.page.free && end.kmalloc.used === boot.kmalloc.used && end.map.entries === boot.map.entries;
  yield session.step({
    step: 'end',
    title: 'meminfo back to the boot figures',
    what: [
      `Free frames ${end.page.free / ps} (boot ${boot.page.free / ps}), map entries ${end.map.entries} (boot ${boot.map.entries}), kmalloc ${bytes(end.kmalloc.used)} used (boot ${bytes(boot.kmalloc.used)}): ${same ? 'everything came back' : 'something was not given back'}.`,
    ],
    figures: {
      backToBoot: same,
      freeAtBoot: boot.page.free,
      free: end.page.free,
      kmallocAtBoot: boot.kmalloc.used,
      kmalloc: end.kmalloc.used,
      entriesAtBoot: boot.map.entries,
      entries: end.map.entries,
    },
  });
}

/** How many evicted frames the working-set step names before counting the rest. */
const EVICTED_NAMED = 6;

/**
 * With reclaim on, a working set larger than memory: `p` maps a private anonymous region of twice the resident
 * limit (without one, twice the free pages, if swap can hold them), writes a pattern in every page, reads every page
 * back and checks it, and unmaps it. Evictions, swap-outs and swap-ins (major faults) of the step are its figures.
 */
function* workingSetStep(session: Session, p: Process): Generator<Step | null, void, undefined> {
  const { vm, arch } = session;
  const ps = arch.pageSize;
  const before = vm.meminfo();
  const r0 = before.reclaim!;
  const freeSlots = (before.swap?.free ?? 0) / ps;
  const slots = (before.swap?.total ?? 0) / ps;
  const pages = r0.limit !== null ? 2 * r0.limit : 2 * (before.page.free / ps);
  const room = r0.limit !== null ? `${r0.limit} resident anonymous page${r0.limit === 1 ? '' : 's'} at most` : `${before.page.free / ps} free frames`;
  // Every page of the region may end up in swap, and the pages already resident pushed out with them.
  if (pages > freeSlots) {
    yield session.step({
      step: 'working-set',
      title: 'a working set larger than memory: skipped',
      what: [`A region of ${pages} pages (twice the ${room}) would not fit in swap: ${freeSlots} of ${slots} slots free (give --frames N, or a larger --swap).`],
      figures: { skipped: true, pages, swapFree: freeSlots },
    });
    return;
  }
  const region = p.mmap({ size: pages * ps, prot: RW, flags: MapFlags.PRIVATE });
  const pattern = (k: number) => {
    const page = new Uint8Array(ps);
    const head = enc(`page ${k} of pid ${p.pid}`);
    for (let i = 0; i < ps; i++) page[i] = (k * 31 + i * 7) & 0xff;
    page.set(head);
    return page;
  };
  for (let k = 0; k < pages; k++) p.write(region + k * ps, pattern(k));
  const written = vm.meminfo().reclaim!;
  for (let k = 0; k < pages; k++) {
    const got = p.read(region + k * ps, ps);
    const want = pattern(k);
    for (let i = 0; i < ps; i++) {
      if (got[i] !== want[i]) throw new Error(`working set: pid ${p.pid} read back byte ${i} of page ${k} at ${addr(region + k * ps + i)} as ${got[i]}, wrote ${want[i]}`);
    }
  }
  const read = vm.meminfo().reclaim!;
  p.munmap(region, pages * ps);
  const after = vm.meminfo();
  const r1 = after.reclaim!;
  const swapUsed = after.swap ? (after.swap.total - after.swap.free) / ps : 0;
  const evictions = r1.evictions - r0.evictions;
  // The step's events so far, looked at and left for the step's narration.
  const evicted = session.recorder.peek().filter((e) => e.type === 'evict').map((e) => addr(e.pa));
  const named = evicted.length === 0 ? '' : evicted.length <= EVICTED_NAMED ? ` Frames evicted: ${evicted.join(', ')}.` : ` ${evicted.length} frames evicted (a frame taken again is evicted again), the first ones: ${evicted.slice(0, EVICTED_NAMED).join(', ')}.`;
  const swapOuts = r1.swapOuts - r0.swapOuts;
  const swapIns = r1.swapIns - r0.swapIns;
  yield session.step({
    step: 'working-set',
    title: 'a working set larger than memory',
    what: [
      `pid ${p.pid} maps ${pages} private pages at ${addr(region)} (${bytes(pages * ps)}, twice the ${room}), writes every page, reads every page back and checks its bytes, then unmaps them.`,
    ],
    why: [
      `Not all of it can be resident at once, so reclaim (${r0.policy}) made room: writing the pages evicted ${written.evictions - r0.evictions} frame${written.evictions - r0.evictions === 1 ? '' : 's'}, reading them back took ${read.swapIns - written.swapIns} major fault${read.swapIns - written.swapIns === 1 ? '' : 's'} (a page read back from swap) and ${read.evictions - written.evictions} more eviction${read.evictions - written.evictions === 1 ? '' : 's'}. Every page read back as written.${named} In all, the step made ${evictions} evictions, ${swapOuts} swap-outs and ${swapIns} swap-ins; unmapping gave its frames and swap slots back${swapUsed > 0 ? ` (the ${swapUsed} slot${swapUsed === 1 ? '' : 's'} still used hold${swapUsed === 1 ? 's' : ''} other pages pushed out to make room)` : ''}.`,
    ],
    figures: { pages, region, checked: true, evictions, swapOuts, swapIns, swapUsed },
  });
}

/** The first step of every run: the board's memory map, the page map and meminfo after boot (yielded). */
export function* bootStep(session: Session): Generator<Step | null, void, undefined> {
  const { vm, arch } = session;
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;
  const boot = vm.meminfo();
  const regions = vm.board.regions
    .map((r) => `  ${addr(r.base, 9)}-${addr(r.base + r.size, 9)}  ${r.kind.padEnd(8)} ${r.name} (${bytes(r.size)})`)
    .join('\n');
  yield session.step({
    step: 'boot',
    title: `boot ${arch.name} on ${vm.board.name}`,
    what: [
      `Board ${vm.board.name}, architecture ${arch.name} (${mmu ? 'MMU with page tables' : 'no MMU: one flat address space behind an MPU'}), ${bytes(ps)} pages. Its memory map:\n${regions}`,
    ],
    why: [
      `Reserved regions are frames owned by BOOT (B); the kernel took ${describeFrames(framesTaken({}, markerCounts(vm.pageMap(), ps), true))}; ` +
        'the rest is free (.). These figures are what exit must give back.',
    ],
    figures: { arch: arch.name, board: vm.board.name, pageSize: ps, hasMmu: mmu, kernelFrames: (boot.page.alloc - boot.page.boot) / ps },
  });
}

const FRAME_KINDS: [string, string, string][] = [
  ['A', 'user page', 'user pages'],
  ['P', 'page-table frame', 'page-table frames'],
  ['H', 'kernel-heap frame', 'kernel-heap frames'],
  ['K', 'frame for the zero page', 'frames for the zero page'],
];

/** Frames of each kind taken between two page-map counts (boot frames and holes aside), and their sum. */
function framesTaken(before: Record<string, number>, after: Record<string, number>, kernelOnly = false): Record<string, number> & { total: number } {
  const out: Record<string, number> & { total: number } = { total: 0 };
  for (const m of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (m === '.' || m === 'B' || m === 'x' || (kernelOnly && m === 'A')) continue;
    const d = (after[m] ?? 0) - (before[m] ?? 0);
    if (d === 0) continue;
    out[m] = d;
    out.total += d;
  }
  return out;
}

/** `8 frames: 3 user pages (A), 2 page-table frames (P) and 3 kernel-heap frames (H)`, or `no frame`. */
function describeFrames(f: Record<string, number> & { total: number }): string {
  if (f.total === 0) return 'no frame';
  const parts: string[] = [];
  for (const [m, one, many] of FRAME_KINDS) if (f[m]) parts.push(`${f[m]} ${f[m] === 1 ? one : many} (${m})`);
  for (const m of Object.keys(f)) if (m !== 'total' && !FRAME_KINDS.some(([k]) => k === m)) parts.push(`${f[m]} ${m}`);
  const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  return parts.length === 1 ? list : `${f.total} frames: ${list}`;
}
