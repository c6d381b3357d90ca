import { NOT_UINTS, WIDE_UINTS, expectErrno, expectUnchanged } from '@vmlayers/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Kmalloc, createBufferHeap } from '../src/index.js';
import type { BufferHeap } from '../src/index.js';

const MiB = 1 << 20;

function snapshot(h: BufferHeap, live: number[]) {
  h.check();
  return { stats: h.stats(), bytes: live.map((p) => Array.from(h.u8(p))) };
}

describe('createBufferHeap', () => {
  it('hands out offsets into the buffer (never 0), real bytes, every default class', () => {
    const buffer = new ArrayBuffer(64 * MiB);
    const h = createBufferHeap(buffer);
    const bytes = new Uint8Array(buffer);
    const got: number[] = [];
    for (let shift = 4; shift <= 23; shift++) {
      const p = h.malloc(2 ** shift - (shift > 4 ? 1 : 0));
      expect(p).toBeGreaterThan(0);
      expect(p + 2 ** shift).toBeLessThanOrEqual(buffer.byteLength);
      expect(h.usableSize(p)).toBe(2 ** shift);
      h.u8(p).fill(shift);
      got.push(p);
    }
    for (const [k, p] of got.entries()) expect(bytes[p + 2 ** (k + 4) - 1]).toBe(k + 4);
    h.check();
    for (const p of got) h.free(p);
    h.free(0);
    h.check();
    expect(h.stats().used).toBe(64 * (h.stats().zones - 1));
    h.kmalloc.trim();
    expect(h.stats()).toMatchObject({ used: 0, zones: 1 });
  });

  it('works over a SharedArrayBuffer, with 512-byte pages and four classes per octave', () => {
    const h = createBufferHeap(new SharedArrayBuffer(MiB), { pageSize: 512, classesPerOctave: 4 });
    const p = h.malloc(20);
    expect(h.usableSize(p)).toBe(20);
    h.view(Int32Array, p).set([1, 2, 3, 4, 5]);
    expect(Array.from(new Int32Array(h.buffer, p, 5))).toEqual([1, 2, 3, 4, 5]);
    h.check();
  });

  it('calloc zeroes, realloc keeps the bytes, the pointer while the class holds', () => {
    const h = createBufferHeap(new ArrayBuffer(4 * MiB));
    const a = h.malloc(100);
    h.u8(a).fill(0xaa);
    h.free(a);
    const z = h.calloc(10, 10);
    expect(z).toBe(a);
    expect(h.u8(z, 100).every((b) => b === 0)).toBe(true);
    h.u8(z, 100).set(Array.from({ length: 100 }, (_, i) => i));
    expect(h.realloc(z, 128)).toBe(z);
    const bigger = h.realloc(z, 1000);
    expect(bigger).not.toBe(z);
    expect(Array.from(h.u8(bigger, 100))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const smaller = h.realloc(bigger, 10);
    expect(Array.from(h.u8(smaller, 10))).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(h.usableSize(smaller)).toBe(16);
    const fresh = h.realloc(0, 50);
    expect(h.usableSize(fresh)).toBe(64);
    h.check();
  });

  it('view: aligned typed arrays over a block, as many elements as fit', () => {
    const h = createBufferHeap(new ArrayBuffer(MiB));
    const p = h.malloc(64);
    const f = h.view(Float64Array, p);
    expect(f.length).toBe(8);
    expect(h.view(Uint16Array, p, 3).length).toBe(3);
    expectErrno(() => h.view(Float64Array, p, 9), 'EINVAL');
    expectErrno(() => h.view(Float64Array, p + 4, 1), 'EINVAL');
    expectErrno(() => h.view(Object as never, p), 'EINVAL');
    expectErrno(() => h.u8(p, 65), 'EINVAL');
  });

  it.each([
    ['not a buffer', () => createBufferHeap(new Uint8Array(8192) as never)],
    ['null', () => createBufferHeap(null as never)],
    ['two pages', () => createBufferHeap(new ArrayBuffer(8192))],
    ['pageSize 1000', () => createBufferHeap(new ArrayBuffer(MiB), { pageSize: 1000 })],
    ['pageSize 256', () => createBufferHeap(new ArrayBuffer(MiB), { pageSize: 256 })],
    ['options 1', () => createBufferHeap(new ArrayBuffer(MiB), 1 as never)],
    ['classesPerOctave 3', () => createBufferHeap(new ArrayBuffer(MiB), { classesPerOctave: 3 as never })],
  ])('%s → EINVAL', (_n, make) => {
    expectErrno(make, 'EINVAL');
  });

  describe('hostile input: refused, every block and byte as it was', () => {
    const h = createBufferHeap(new ArrayBuffer(MiB));
    const live = [h.malloc(100), h.malloc(3000), h.malloc(16)];
    for (const p of live) h.u8(p).fill(p & 0xff);
    const freed = h.malloc(100);
    h.free(freed);
    const snap = () => snapshot(h, live);
    const cases: [string, () => unknown, 'EINVAL' | 'ENOMEM'][] = [
      ...NOT_UINTS.map((v) => [`malloc(${v.name})`, () => h.malloc(v.value as number), 'EINVAL'] as [string, () => unknown, 'EINVAL']),
      ...WIDE_UINTS.map((v) => [`malloc(${v.name})`, () => h.malloc(v.value as number), 'ENOMEM'] as [string, () => unknown, 'ENOMEM']),
      ...NOT_UINTS.map((v) => [`free(${v.name})`, () => h.free(v.value as number), 'EINVAL'] as [string, () => unknown, 'EINVAL']),
      ...NOT_UINTS.map((v) => [`calloc(${v.name}, 4)`, () => h.calloc(v.value as number, 4), 'EINVAL'] as [string, () => unknown, 'EINVAL']),
      ...NOT_UINTS.map((v) => [`realloc(p, ${v.name})`, () => h.realloc(live[0], v.value as number), 'EINVAL'] as [string, () => unknown, 'EINVAL']),
      ...NOT_UINTS.map((v) => [`realloc(${v.name}, 8)`, () => h.realloc(v.value as number, 8), 'EINVAL'] as [string, () => unknown, 'EINVAL']),
      ...NOT_UINTS.map((v) => [`u8(${v.name})`, () => h.u8(v.value as number), 'EINVAL'] as [string, () => unknown, 'EINVAL']),
      ['malloc(0)', () => h.malloc(0), 'EINVAL'],
      ['free(inside a block)', () => h.free(live[0] + 16), 'EINVAL'],
      ['free(a freed block)', () => h.free(freed), 'EINVAL'],
      ['free(a zone descriptor)', () => h.free(4096 + 64), 'EINVAL'],
      ['free(page 0)', () => h.free(64), 'EINVAL'],
      ['free(past the buffer)', () => h.free(MiB + 4096), 'EINVAL'],
      ['realloc(a freed block, 8)', () => h.realloc(freed, 8), 'EINVAL'],
      ['calloc(2**20, 2**20)', () => h.calloc(2 ** 20, 2 ** 20), 'ENOMEM'],
      ['calloc(2**30, 2**30)', () => h.calloc(2 ** 30, 2 ** 30), 'ENOMEM'],
      ['malloc(2 MiB) in a 1 MiB buffer', () => h.malloc(2 * MiB), 'ENOMEM'],
      ['realloc(p, 2 MiB) in a 1 MiB buffer', () => h.realloc(live[1], 2 * MiB), 'ENOMEM'],
      ['u8(p, 4097)', () => h.u8(live[1], 4097), 'EINVAL'],
    ];
    it.each(cases)('%s → %s', (name, call, errno) => {
      expectUnchanged(snap, call, errno, name);
    });
  });

  it('exhaustion → ENOMEM with every live block intact, and memory comes back', () => {
    const h = createBufferHeap(new ArrayBuffer(MiB));
    const got: number[] = [];
    for (;;) {
      try {
        got.push(h.malloc(1000));
      } catch (e) {
        expect((e as { code: string }).code).toBe('ENOMEM');
        break;
      }
    }
    expect(got.length).toBeGreaterThan(900);
    const before = snapshot(h, got);
    expectErrno(() => h.calloc(1, 16), 'ENOMEM');
    expect(snapshot(h, got)).toEqual(before);
    for (const p of got) h.free(p);
    h.kmalloc.trim();
    h.check();
    expect(h.stats()).toMatchObject({ used: 0, zones: 1, capacity: MiB - 4096, available: MiB - 8192 });
  });
});

type Op =
  | { kind: 'malloc'; size: number }
  | { kind: 'calloc'; n: number; size: number }
  | { kind: 'realloc'; pick: number; size: number }
  | { kind: 'free'; pick: number }
  | { kind: 'write'; pick: number; byte: number };

const size = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 512 }), weight: 5 }, { arbitrary: fc.integer({ min: 1, max: 40000 }), weight: 2 });
const ops = fc.array(
  fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('malloc' as const), size }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('calloc' as const), n: fc.integer({ min: 1, max: 64 }), size: fc.integer({ min: 1, max: 64 }) }), weight: 1 },
    { arbitrary: fc.record({ kind: fc.constant('realloc' as const), pick: fc.nat(), size }), weight: 2 },
    { arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }), weight: 3 },
    { arbitrary: fc.record({ kind: fc.constant('write' as const), pick: fc.nat(), byte: fc.integer({ min: 1, max: 255 }) }), weight: 2 },
  ),
  { maxLength: 80 },
);

describe.each([
  { name: 'power-of-two classes', classesPerOctave: 1 as const },
  { name: 'four classes per octave', classesPerOctave: 4 as const },
])('buffer heap vs a reference of live blocks: $name', ({ classesPerOctave }) => {
  it('no overlap, contents kept (realloc copies, calloc zeroes), ENOMEM changes nothing, check() after every step', () => {
    fc.assert(
      fc.property(ops, fc.boolean(), (seq, keep) => {
        // 256 KiB: small enough that exhaustion happens.
        const h = createBufferHeap(new ArrayBuffer(256 * 1024), { classesPerOctave, keepEmptyZones: keep ? 2 : 0 });
        const ref = new Map<number, { size: number; bytes: Uint8Array }>();
        const pick = (n: number) => [...ref.keys()][n % ref.size];
        const fill = (p: number, n: number, seed: number) => {
          const b = Uint8Array.from({ length: n }, (_, i) => (seed + i * 13) & 0xff);
          h.u8(p, n).set(b);
          return b;
        };
        const attempt = (f: () => number): number => {
          const before = snapshot(h, [...ref.keys()]);
          try {
            return f();
          } catch (e) {
            expect((e as { code: string }).code).toBe('ENOMEM');
            const after = snapshot(h, [...ref.keys()]);
            // Kept empty zones may be given back before ENOMEM; nothing else changes.
            expect({ used: after.stats.used, bytes: after.bytes }).toEqual({ used: before.stats.used, bytes: before.bytes });
            return -1;
          }
        };
        for (const op of seq) {
          if (op.kind === 'malloc' || op.kind === 'calloc') {
            const n = op.kind === 'malloc' ? op.size : op.n * op.size;
            const p = attempt(() => (op.kind === 'malloc' ? h.malloc(op.size) : h.calloc(op.n, op.size)));
            if (p >= 0) {
              expect(p).toBeGreaterThan(0);
              expect(h.usableSize(p)).toBe(h.kmalloc.classSize(n));
              for (const [q, b] of ref) expect(p + h.usableSize(p) <= q || q + h.usableSize(q) <= p, `${p} overlaps ${q} (${b.size})`).toBe(true);
              if (op.kind === 'calloc') expect(h.u8(p, n).every((x) => x === 0)).toBe(true);
              ref.set(p, { size: n, bytes: fill(p, Math.min(n, 48), p) });
            }
          } else if (ref.size > 0) {
            const p = pick(op.pick);
            const b = ref.get(p)!;
            if (op.kind === 'write') {
              b.bytes[0] = op.byte;
              h.u8(p, 1)[0] = op.byte;
            } else if (op.kind === 'free') {
              h.free(p);
              ref.delete(p);
            } else {
              const q = attempt(() => h.realloc(p, op.size));
              if (q >= 0) {
                const kept = b.bytes.subarray(0, Math.min(b.bytes.length, op.size));
                expect(Array.from(h.u8(q, kept.length))).toEqual(Array.from(kept));
                ref.delete(p);
                ref.set(q, { size: op.size, bytes: Uint8Array.from(kept) });
              }
            }
          }
          h.check();
          for (const [p, b] of ref) expect(Array.from(h.u8(p, b.bytes.length))).toEqual(Array.from(b.bytes));
          expect(h.stats().used - 64 * (h.stats().zones - 1)).toBe([...ref.keys()].reduce((t, p) => t + h.usableSize(p), 0));
        }
        for (const p of ref.keys()) h.free(p);
        h.kmalloc.trim();
        h.check();
        expect(h.stats()).toMatchObject({ used: 0, zones: 1 });
      }),
      { numRuns: 150 },
    );
  });
});

it('Kmalloc.sizeOf is the default classes of a buffer heap', () => {
  const h = createBufferHeap(new ArrayBuffer(MiB));
  for (const s of [1, 17, 100, 4097]) expect(h.usableSize(h.malloc(s))).toBe(Kmalloc.sizeOf(s));
});
