import { ARCHS } from '@vmlayers/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Kmalloc, ZONE_HEADER_SIZE } from '../src/index.js';
import type { KernelMemory } from '../src/index.js';
import { bootKernelMap, identity } from './kernels.js';

type Op =
  | { kind: 'kmalloc'; size: number }
  | { kind: 'kfree'; pick: number }
  | { kind: 'write'; pick: number; offset: number; byte: number };

// Sizes as kernels ask: mostly small structures, sometimes a page or more, rarely megabytes.
const size = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 256 }), weight: 6 },
  { arbitrary: fc.integer({ min: 1, max: 16384 }), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 1 << 20 }), weight: 1 },
);
const ops = fc.array(
  fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('kmalloc' as const), size }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('kfree' as const), pick: fc.nat() }), weight: 3 },
    {
      arbitrary: fc.record({
        kind: fc.constant('write' as const),
        pick: fc.nat(),
        offset: fc.nat(),
        byte: fc.integer({ min: 1, max: 255 }),
      }),
      weight: 2,
    },
  ),
  { maxLength: 60 },
);

function modelTest(name: string, make: () => KernelMemory): void {
  describe(`kmalloc vs a model of live blocks: ${name}`, () => {
    it('no overlap, contents preserved, stats exact, check() after every step, frames conserved', () => {
      fc.assert(
        fc.property(ops, (seq) => {
          const k = make();
          const km = new Kmalloc(k);
          const frames = k.alloc.info();
          const boot = km.stats();
          // Model: each live block's request, class size and the bytes we wrote into it.
          const live: { va: number; size: number; cls: number; bytes: Uint8Array }[] = [];
          for (const op of seq) {
            if (op.kind === 'kmalloc') {
              let va: number;
              try {
                va = km.kmalloc(op.size);
              } catch (e) {
                expect((e as { code: string }).code).toBe('ENOMEM');
                km.check();
                continue;
              }
              const cls = Kmalloc.sizeOf(op.size);
              for (const b of live) expect(va + cls <= b.va || b.va + b.cls <= va).toBe(true);
              const bytes = Uint8Array.from({ length: Math.min(op.size, 64) }, (_, i) => (va + i * 7) & 0xff);
              k.write(va, bytes);
              live.push({ va, size: op.size, cls, bytes });
            } else if (live.length > 0) {
              const b = live[op.pick % live.length];
              if (op.kind === 'write') {
                const at = op.offset % b.bytes.length;
                b.bytes[at] = op.byte;
                k.write(b.va + at, Uint8Array.of(op.byte));
              } else {
                expect(k.read(b.va, b.bytes.length)).toEqual(b.bytes);
                km.kfree(b.va);
                live.splice(live.indexOf(b), 1);
              }
            }
            km.check();
            for (const b of live) expect(k.read(b.va, b.bytes.length)).toEqual(b.bytes);
            const s = km.stats();
            expect(s.used).toBe(live.reduce((t, b) => t + b.cls, 0) + ZONE_HEADER_SIZE * (s.zones - 1));
          }
          for (const b of live) km.kfree(b.va);
          km.check();
          expect(km.stats()).toEqual(boot);
          expect(k.alloc.info()).toEqual(frames);
        }),
        { numRuns: 80 },
      );
    });
  });
}

modelTest('identity-mapped kernel pages, 4 KiB', () => identity(32 << 20));
modelTest('identity-mapped kernel pages, 512 B', () => identity(4 << 20, 512));
for (const arch of ARCHS) modelTest(`kernel map on ${arch.name}`, () => bootKernelMap(arch));
