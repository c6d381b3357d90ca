import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Access, BoardMemoryMap, FaultCode, PageAllocator, PhysicalMemory } from '@vmlayers/phys';
import { createArmv7m, createArmv8m } from '../src/index.js';
import type { Armv8mMpu, Mpu, RegionMpu, RegionPmap } from '../src/index.js';

type AnyPmap = RegionPmap<RegionMpu, never>;

const SRAM = 0x2000_0000;

const board = new BoardMemoryMap([
  { base: 0x0800_0000, size: 0x4_0000, kind: 'reserved', name: 'flash' },
  { base: SRAM, size: 0x8000, kind: 'ram', name: 'sram0' },
  { base: SRAM + 0x8000, size: 0x8000, kind: 'ram', name: 'sram1' },
  { base: SRAM + 0x1_0000, size: 0x600, kind: 'ram', name: 'odd' },
  { base: 0x4000_0000, size: 0x1000, kind: 'device', name: 'uart' },
]);
const maps = ['sram0', 'sram1', 'odd', 'uart'];

/** What translate must answer, computed without any cache: the MPU's verdict with the right mask, then the bus. */
function reference(p: AnyPmap, va: number, access: number): number {
  // An access code needs at least one of READ/WRITE/EXEC: 0 and USER alone are junk, whatever the MPU says.
  if ((access & 7) === 0) return FaultCode.BAD_ADDRESS;
  if (p.isDestroyed) return FaultCode.NOT_MAPPED;
  const mpu = p.mpu;
  const mask = p.isActive ? mpu.enabledMask : p.regionMask & mpu.programmedMask;
  const r = mpu.permit(va, access, mask);
  if (r !== 0) return r;
  return p.resolve(va) === va ? va : FaultCode.BAD_ADDRESS;
}

type Op =
  | { op: 'translate'; space: number; va: number; access: number }
  | { op: 'activate'; space: number }
  | { op: 'addMap' | 'removeMap'; space: number; map: string }
  | { op: 'program'; slot: number; base: number; log2: number; srd: number; ap: number; xn: boolean; enable: boolean; granules: number; attrIndx: number }
  | { op: 'mair'; word: number }
  | { op: 'clear'; slot: number }
  | { op: 'enable'; slot: number; on: boolean }
  | { op: 'grant' | 'revoke'; space: number; slot: number }
  | { op: 'ctrl'; ctrl: number };

const space = fc.integer({ min: 0, max: 2 });
const slot = fc.integer({ min: 5, max: 15 });
const va = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: SRAM - 0x40, max: SRAM + 0x1_0700 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x0800_0000, 0x4000_0000, 0x4000_0ffc, 0xe000_ed00) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ op: fc.constant('translate' as const), space, va, access: fc.integer({ min: 0, max: 15 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('activate' as const), space }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('addMap' as const, 'removeMap' as const), space, map: fc.constantFrom(...maps) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('program' as const),
      slot,
      base: fc.integer({ min: 0, max: 0x1_0700 }),
      log2: fc.integer({ min: 5, max: 17 }),
      srd: fc.integer({ min: 0, max: 255 }),
      ap: fc.constantFrom(0, 1, 2, 3, 5, 6, 7),
      xn: fc.boolean(),
      enable: fc.boolean(),
      // armv8m: a base/limit region of this many 32-byte granules, with this MAIR attribute
      granules: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 0x800 })),
      attrIndx: fc.integer({ min: 0, max: 7 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mair' as const), word: fc.constantFrom(0x0004_aaff, 0x4444_4444, 0, 0x0c08_04ff) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const), slot }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('enable' as const), slot, on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('grant' as const, 'revoke' as const), space, slot }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('ctrl' as const), ctrl: fc.constantFrom(0, 1, 5, 7) }) },
);

/** One MPU generation under test: boots a kernel and two user spaces, and programs a region from an op. */
interface Generation {
  name: string;
  boot(): AnyPmap[];
  program(mpu: RegionMpu, o: Extract<Op, { op: 'program' }>): void;
  mair(mpu: RegionMpu, word: number): void;
}

function spacesOf<P extends { createUser(k: never): unknown }>(arch: P, kernel: unknown): AnyPmap[] {
  return [kernel, arch.createUser(kernel as never), arch.createUser(kernel as never)] as AnyPmap[];
}

const generations: Generation[] = [
  {
    name: 'armv7m',
    boot() {
      const arch = createArmv7m({ regions: 16, userMaps: 'none' });
      const mem = new PhysicalMemory(board);
      return spacesOf(arch, arch.createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), board));
    },
    program(mpu, o) {
      const size = 2 ** o.log2;
      (mpu as Mpu).program(o.slot, {
        base: SRAM + Math.floor(o.base / size) * size,
        size,
        srd: o.log2 < 8 ? 0 : o.srd,
        ap: o.ap,
        xn: o.xn,
        enable: o.enable,
      });
    },
    mair() {},
  },
  {
    name: 'armv8m',
    boot() {
      const arch = createArmv8m({ regions: 16, userMaps: 'none' });
      const mem = new PhysicalMemory(board);
      return spacesOf(arch, arch.createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), board));
    },
    program(mpu, o) {
      const base = SRAM + (o.base & ~31);
      (mpu as Armv8mMpu).program(o.slot, {
        base,
        limit: Math.min(base + o.granules * 32, 2 ** 32) - 1,
        ap: o.ap & 3,
        xn: o.xn,
        attrIndx: o.attrIndx,
        enable: o.enable,
      });
    },
    // MAIR1 (Attr4–Attr7): MAIR0 holds the loader's attributes, which check() holds every loader slot to.
    mair(mpu, word) {
      (mpu as Armv8mMpu).setMair(1, word);
    },
  },
];

describe.each(generations)('verdict cache ($name)', (gen) => {
  it('answers exactly as the uncached MPU through any sequence of programming, grants and switches', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), (ops) => {
        const spaces = gen.boot();
        const kernel = spaces[0];
        const mpu = kernel.mpu;
        for (const o of ops) {
          switch (o.op) {
            case 'translate': {
              const p = spaces[o.space];
              const want = reference(p, o.va, o.access);
              expect(p.translate(o.va, o.access)).toBe(want);
              // Twice: the second answer comes from the cache when the first filled it.
              expect(p.translate(o.va, o.access)).toBe(want);
              break;
            }
            case 'activate':
              spaces[o.space].activate();
              break;
            case 'addMap':
              spaces[o.space].addMap(o.map);
              break;
            case 'removeMap':
              spaces[o.space].removeMap(o.map);
              break;
            case 'program':
              gen.program(mpu, o);
              break;
            case 'mair':
              gen.mair(mpu, o.word);
              break;
            case 'clear':
              mpu.clearRegion(o.slot);
              break;
            case 'enable':
              if ((mpu.programmedMask >> o.slot) & 1) mpu.setEnabled(o.slot, o.on);
              break;
            case 'grant':
              spaces[o.space].addRegion(o.slot);
              break;
            case 'revoke':
              spaces[o.space].removeRegion(o.slot);
              break;
            case 'ctrl':
              mpu.setCtrl(o.ctrl);
              break;
          }
          for (const p of spaces) p.check();
        }
        mpu.check();
        // And a sweep over every granule of SRAM in every mode, for each address space.
        const wrong: string[] = [];
        spaces.forEach((p, i) => {
          for (let a = SRAM - 0x40; a < SRAM + 0x1_0700; a += 32) {
            for (const acc of [Access.READ, Access.WRITE, Access.EXEC, Access.READ | Access.USER, Access.WRITE | Access.USER]) {
              const at = a + (acc & 3) * 8;
              const got = p.translate(at, acc);
              const want = reference(p, at, acc);
              if (got !== want) wrong.push(`space ${i} translate(0x${at.toString(16)}, ${acc}) = ${got}, want ${want}`);
            }
          }
        });
        expect(wrong.slice(0, 5)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
