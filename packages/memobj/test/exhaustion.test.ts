import { FAULT_SITES, MapFlags, Prot } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import type { Process, Vm } from '../src/index.js';
import { ARCHS, PRIVATE, RW, SHARED, errnoOf, footprint, pattern, smallVm } from './helpers.js';

interface World {
  vm: Vm;
  procs: Process[];
  // What each process must read, by pid: [va, bytes][].
  expect: Map<number, [number, Uint8Array][]>;
}

function setup(arch: PmapFactory): World {
  const vm = smallVm(arch);
  const ps = arch.pageSize;
  const img = pattern(2 * ps, 1);
  const p = vm.spawn({ segments: [{ vaddr: 0x10000, size: 3 * ps, prot: RW, data: img }] });
  const va = p.mmap({ size: 4 * ps, prot: RW, flags: PRIVATE });
  p.write(va, pattern(2 * ps, 2));
  const data = arch.capabilities.hasMmu ? 0x10000 : vm.maps(p.pid)[0].start;
  const w: World = { vm, procs: [p], expect: new Map() };
  w.expect.set(p.pid, [
    [data, img],
    [va, pattern(2 * ps, 2)],
  ]);
  if (arch.capabilities.hasMmu) {
    const c = p.fork();
    w.procs.push(c);
    w.expect.set(c.pid, [
      [data, img],
      [va, pattern(2 * ps, 2)],
    ]);
  }
  return w;
}

function verify(w: World): void {
  w.vm.check();
  for (const p of w.procs) {
    if (p.exited) continue;
    for (const [va, bytes] of w.expect.get(p.pid) ?? []) expect(p.read(va, bytes.length)).toEqual(bytes);
  }
}

// Operations that allocate at some site; each either completes or fails with ENOMEM and changes nothing visible.
interface Op {
  name: string;
  /** Whether a failure gives back everything (a write may keep the pages it copied before the failure). */
  atomic: boolean;
  /** Set-up done before the failure is armed. */
  prepare?: (w: World) => void;
  run: (w: World) => void;
}

function operations(arch: PmapFactory): Op[] {
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;
  return [
    { name: 'createObject', atomic: true, run: (w) => w.vm.createObject(new Uint8Array(3 * ps)).release() },
    {
      name: 'spawn with an image',
      atomic: true,
      run: (w) => {
        const q = w.vm.spawn({ segments: [{ vaddr: 0x30000, size: 2 * ps, prot: RW, data: pattern(ps, 9) }] });
        q.exit();
      },
    },
    { name: 'mmap shared anonymous', atomic: true, run: (w) => void w.procs[0].mmap({ size: 2 * ps, prot: RW, flags: SHARED }) },
    { name: 'mmap private', atomic: true, run: (w) => void w.procs[0].mmap({ size: 2 * ps, prot: RW, flags: PRIVATE }) },
    {
      name: 'write (zero fill / copy on write)',
      atomic: false,
      run: (w) => {
        const va = w.expect.get(w.procs[0].pid)![1][0];
        const bytes = pattern(3 * ps, 5);
        w.procs[0].write(va + ps / 2, bytes);
        const e = w.expect.get(w.procs[0].pid)!;
        const merged = new Uint8Array(2 * ps);
        merged.set(e[1][1]);
        merged.set(bytes.subarray(0, 2 * ps - ps / 2), ps / 2);
        e[1] = [va, merged];
        e.push([va + 2 * ps, bytes.subarray(2 * ps - ps / 2, 3 * ps - ps / 2)]);
      },
    },
    ...(mmu
      ? [
          {
            name: 'child write (copy on write of image and anon)',
            atomic: false,
            run: (w: World) => {
              const c = w.procs[1];
              c.write(0x10000 + ps - 2, new Uint8Array([1, 2, 3, 4]));
              const e = w.expect.get(c.pid)!;
              const img = e[0][1].slice();
              img.set([1, 2, 3, 4], ps - 2);
              e[0] = [0x10000, img];
            },
          },
          {
            name: 'fork',
            atomic: true,
            run: (w: World) => {
              const g = w.procs[0].fork();
              try {
                g.write(w.expect.get(w.procs[0].pid)![1][0], new Uint8Array([7]));
              } finally {
                g.exit();
              }
            },
          },
          {
            name: 'mprotect split',
            atomic: true,
            run: (w: World) => {
              const va = w.expect.get(w.procs[0].pid)![1][0];
              w.procs[0].mprotect(va + ps, ps, Prot.READ);
            },
          },
          {
            name: 'munmap of a middle page',
            atomic: true,
            prepare: (w: World) => {
              const q = w.procs[0];
              const va = q.mmap({ addr: 0x5000_0000, size: 3 * ps, prot: RW, flags: PRIVATE | MapFlags.FIXED });
              q.write(va, pattern(3 * ps, 1));
            },
            run: (w: World) => {
              w.procs[0].munmap(0x5000_0000 + ps, ps);
            },
          },
        ]
      : []),
  ];
}

describe.each(ARCHS.map((a) => [a.name, a] as const))('exhaustion on %s', (_n, arch) => {
  for (const site of FAULT_SITES) {
    it(`failing the n-th allocation at ${site} fails with ENOMEM and leaves every process intact`, () => {
      for (const op of operations(arch)) {
        let succeeded = false;
        for (let n = 1; n <= 12 && !succeeded; n++) {
          const w = setup(arch);
          op.prepare?.(w);
          const before = footprint(w.vm);
          const maps = w.procs.map((p) => w.vm.maps(p.pid));
          w.vm.faults.failAt(site, n);
          const code = errnoOf(() => op.run(w));
          const failed = w.vm.faults.counts().failed > 0;
          w.vm.faults.reset();
          if (code === undefined) {
            verify(w);
            // The fault was never reached: this op does not allocate n times at this site.
            if (!failed) succeeded = true;
            continue;
          }
          expect(code, `${op.name}, ${site} #${n}`).toBe('ENOMEM');
          // An operation that may stop half-way may have given a needs-copy entry its amap before it stopped.
          // A write that fails part way keeps the pages it wrote (their anons count in `anonymous`) and may have
          // given its entry its private state (NEEDSCOPY cleared): the layout must be the same, not the residency.
          const layout = (m: ReturnType<Vm['maps']>) => (op.atomic ? m : m.map((e) => ({ ...e, flags: e.flags & ~MapFlags.NEEDSCOPY, anonymous: 0 })));
          expect(w.procs.map((p) => layout(w.vm.maps(p.pid))), `${op.name}: maps changed`).toEqual(maps.map(layout));
          if (op.atomic) expect(footprint(w.vm), `${op.name}, ${site} #${n}: memory not given back`).toEqual(before);
          verify(w);
          // And the system still works: the same operation succeeds now.
          op.run(w);
          verify(w);
        }
      }
    });
  }
});
