/*
 * The region-per-map address space (RegionPmap) as both MPU generations give it: the same board, the same
 * operations, the same answers wherever the generations agree (no overlapping regions here).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Access, BoardMemoryMap, FaultCode, PageAllocator, PageAttr, PhysicalMemory } from '@vmlayers/phys';
import { createArmv7m, createArmv8m } from '../src/index.js';
import type { MpuArchOptions, RegionMpu, RegionPmap } from '../src/index.js';
import { R, U, W, X, expectError } from './support.js';

const KiB = 1024;
const FLASH = 0x0800_0000;
const SRAM = 0x2000_0000;
const PERIPH = 0x4000_0000;

type AnyPmap = RegionPmap<RegionMpu, never>;
interface Generation {
  name: string;
  arch(options?: MpuArchOptions): { createKernel(mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): AnyPmap; createUser(k: AnyPmap): AnyPmap };
}
const generations: Generation[] = [
  { name: 'armv7m', arch: (o) => createArmv7m(o) as never },
  { name: 'armv8m', arch: (o) => createArmv8m(o) as never },
];

/** A part with three SRAM banks, so that address spaces can be kept apart by regions; one region a map on both. */
const threeBanks = new BoardMemoryMap([
  { base: FLASH, size: 256 * KiB, kind: 'reserved', name: 'flash' },
  { base: SRAM, size: 64 * KiB, kind: 'ram', name: 'sram0' },
  { base: SRAM + 64 * KiB, size: 64 * KiB, kind: 'ram', name: 'sram1' },
  { base: SRAM + 128 * KiB, size: 32 * KiB, kind: 'ram', name: 'shared' },
  { base: PERIPH, size: 0x2000_0000, kind: 'device', name: 'peripherals' },
]);

describe.each(generations)('region-per-map address spaces on $name', (gen) => {
  function boot(options: MpuArchOptions = {}) {
    const arch = gen.arch(options);
    const mem = new PhysicalMemory(threeBanks);
    const alloc = new PageAllocator(mem, { pageSize: 512 });
    const kernel = arch.createKernel(mem, alloc, threeBanks);
    return { arch, alloc, kernel };
  }

  it('never throws and allocates nothing in translate and resolve, whatever it is given', () => {
    const { arch, kernel, alloc } = boot();
    const user = arch.createUser(kernel);
    const before = alloc.info();
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (va, access) => {
        for (const p of [kernel, user]) {
          const r = p.translate(va as number, access as number);
          expect(typeof r).toBe('number');
          expect(r === va || r < 0).toBe(true);
          const s = p.resolve(va as number);
          expect(s === va || s === -1).toBe(true);
        }
      }),
    );
    expect(alloc.info()).toEqual(before);
  });

  it('checks an inactive address space exactly as the MPU would once it is activated', () => {
    const { arch, kernel } = boot({ userMaps: 'none' });
    const spaces = [kernel, arch.createUser(kernel), arch.createUser(kernel), arch.createUser(kernel)];
    const maps = ['sram0', 'sram1', 'shared', 'peripherals'];
    const vaArb = fc.oneof(
      fc.integer({ min: SRAM - 0x200, max: SRAM + 160 * KiB + 0x200 }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      fc.constantFrom(FLASH, FLASH + 256 * KiB, PERIPH),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.subarray(maps)), { minLength: 3, maxLength: 3 }),
        fc.array(fc.tuple(vaArb, fc.integer({ min: 0, max: 15 })), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 3 }),
        (grants, accesses, loaded) => {
          for (const [i, ms] of grants) for (const m of ms) spaces[i].addMap(m);
          spaces[loaded].activate();
          const inactive = spaces.map((p) => accesses.map(([va, a]) => p.translate(va, a)));
          spaces.forEach((p, i) => {
            p.activate();
            expect(kernel.mpu.enabledMask).toBe(p.regionMask);
            const live = accesses.map(([va, a]) => {
              if ((a & 7) === 0) return FaultCode.BAD_ADDRESS; // no READ/WRITE/EXEC: not an access
              const m = kernel.mpu.permit(va, a);
              return m !== 0 ? m : p.resolve(va) === va ? va : FaultCode.BAD_ADDRESS;
            });
            expect(accesses.map(([va, a]) => p.translate(va, a))).toEqual(live);
            expect(inactive[i]).toEqual(live);
            p.check();
          });
          for (const p of spaces.slice(1)) for (const m of maps) p.removeMap(m);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps two address spaces with different masks apart, and lets them share a granted map', () => {
    const { arch, kernel } = boot({ userMaps: 'none' });
    const a = arch.createUser(kernel);
    const b = arch.createUser(kernel);
    expect(a.addMap('sram0')).toBe(0b0010);
    expect(b.addMap('sram1')).toBe(0b0100);
    a.addMap('shared');
    b.grant(SRAM + 128 * KiB + 0x200, 512);
    expect(a.addMap('shared')).toBe(0);
    const aPriv = SRAM + 0x100;
    const bPriv = SRAM + 64 * KiB + 0x100;
    const shared = SRAM + 128 * KiB + 0x100;
    for (const [active, other] of [
      [a, b],
      [b, a],
    ] as const) {
      active.activate();
      const own = active === a ? aPriv : bPriv;
      const theirs = active === a ? bPriv : aPriv;
      expect(kernel.mpu.enabledMask).toBe(active.regionMask);
      expect(active.isActive && !other.isActive).toBe(true);
      for (const acc of [R, W, X]) {
        expect(active.translate(own, acc | U)).toBe(own);
        expect(active.translate(theirs, acc | U)).toBe(FaultCode.NOT_MAPPED);
        expect(active.translate(shared, acc | U)).toBe(shared);
        // The MPU itself, as hardware sees it with this address space loaded.
        expect(kernel.mpu.permit(theirs, acc | U)).toBe(FaultCode.NOT_MAPPED);
      }
      // The kernel, running privileged, still reaches every bank through the default map.
      expect(active.translate(theirs, R | W)).toBe(theirs);
      expect(active.isAllowed(own, 0x100)).toBe(true);
      expect(active.isAllowed(theirs, 0x100)).toBe(false);
      expect(active.isAllowed(own, 64 * KiB)).toBe(false); // runs past the end of its map
    }
    // Region addresses never change on a switch: only enable bits do (bit 0 of RASR and of RLAR alike).
    const mpu = kernel.mpu as unknown as { region(n: number): { enable: boolean } };
    const words = [0, 1, 2, 3, 4].map((n) => ({ ...mpu.region(n), enable: false }));
    a.activate();
    b.activate();
    kernel.activate();
    expect([0, 1, 2, 3, 4].map((n) => ({ ...mpu.region(n), enable: false }))).toEqual(words);
    expect(kernel.mpu.enabledMask).toBe(0b0001);
  });

  it('enter / remove / protect record nothing and take nothing from the allocator', () => {
    const { arch, kernel, alloc } = boot();
    const user = arch.createUser(kernel);
    const frame = alloc.alloc(512);
    expect(frame).not.toBeNull();
    const before = alloc.info();
    const pa = frame!.pa;
    expect(user.enter(pa, pa, PageAttr.PRESENT | PageAttr.READ | PageAttr.USER)).toBe(0);
    expect(kernel.enter(pa, pa, PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE)).toBe(0);
    expect(user.resolve(pa)).toBe(pa);
    user.protect(pa, pa + 512, PageAttr.PRESENT);
    expect(user.translate(pa, W | U)).toBe(pa); // the MPU region decides, not the attributes
    user.remove(pa, pa + 512);
    expect(user.resolve(pa)).toBe(pa);
    user.remove(SRAM, SRAM); // empty range
    expect(user.stats().tableFrames).toBe(0);
    expect(alloc.info()).toEqual(before);
    user.destroy();
    kernel.destroy();
    expect(alloc.info()).toEqual(before);
  });

  it.each([
    ['an unaligned va', (p: AnyPmap) => p.enter(SRAM + 0x100, SRAM + 0x100, 0)],
    ['pa different from va', (p: AnyPmap) => p.enter(SRAM + 0x200, SRAM, 0)],
    ['a va on no board map', (p: AnyPmap) => p.enter(0x1000_0000, 0x1000_0000, 0)],
    ['a va past 4 GiB', (p: AnyPmap) => p.enter(2 ** 32, 2 ** 32, 0)],
    ['a negative va', (p: AnyPmap) => p.enter(-512, -512, 0)],
    ['a fractional va', (p: AnyPmap) => p.enter(SRAM + 0.5, SRAM + 0.5, 0)],
    ['NaN', (p: AnyPmap) => p.enter(Number.NaN, Number.NaN, 0)],
    ['unknown attribute bits', (p: AnyPmap) => p.enter(SRAM, SRAM, 0x100)],
    ['an unaligned remove', (p: AnyPmap) => p.remove(SRAM, SRAM + 1)],
    ['a reversed remove', (p: AnyPmap) => p.remove(SRAM + 512, SRAM)],
    ['a remove past 4 GiB', (p: AnyPmap) => p.remove(SRAM, 2 ** 32 + 512)],
    ['an unaligned protect', (p: AnyPmap) => p.protect(SRAM + 8, SRAM + 512, PageAttr.READ)],
    ['protect with unknown bits', (p: AnyPmap) => p.protect(SRAM, SRAM + 512, -1)],
    ['a grant outside board maps', (p: AnyPmap) => p.grant(0x1000_0000, 512)],
    ['an add of a slot past the MPU', (p: AnyPmap) => p.addRegion(16)],
  ])('refuses %s → EINVAL, state unchanged', (_name, f) => {
    const { arch, kernel } = boot();
    const user = arch.createUser(kernel);
    for (const p of [user, kernel]) {
      const before = [p.regionMask, kernel.mpu.enabledMask, kernel.mpu.generation, p.tables()];
      expectError('EINVAL', () => f(p));
      expect([p.regionMask, kernel.mpu.enabledMask, kernel.mpu.generation, p.tables()]).toEqual(before);
      p.check();
    }
  });

  it('is unusable after destroy, and destroying twice is harmless', () => {
    const { arch, kernel } = boot();
    const user = arch.createUser(kernel);
    user.activate();
    user.destroy();
    user.destroy();
    expect(user.isDestroyed).toBe(true);
    expect(kernel.mpu.enabledMask).toBe(0);
    expect(user.translate(SRAM, R)).toBe(FaultCode.NOT_MAPPED);
    expect(user.resolve(SRAM)).toBe(-1);
    expect(user.isAllowed(SRAM, 4)).toBe(false);
    expectError('EINVAL', () => user.enter(SRAM, SRAM, 0));
    expectError('EINVAL', () => user.activate());
    expectError('EINVAL', () => user.addMap('sram0'));
    expectError('ENOSYS', () => user.referenced(SRAM), new RegExp(`${gen.name} has no MMU`));
    kernel.activate();
    expect(kernel.mpu.enabledMask).toBe(0b0001);
    user.check();
  });
});
