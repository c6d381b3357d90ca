import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultCode } from '@vmlayers/phys';
import { Mpu } from '../src/index.js';
import { modelAccess, modelAddress, modelPermission } from './support.js';

/*
 * A brute-force reading of ARMv7-M B3.5 (PMSAv7), kept as plain as possible: scan every region from 0 up and
 * remember the last one that matches, compute subregions by division, permissions from a literal table.
 */
interface ModelRegion {
  base: number;
  size: number;
  srd: number;
  ap: number;
  xn: boolean;
  enable: boolean;
}

// AP → [privileged read, privileged write, unprivileged read, unprivileged write]
const AP_TABLE: Record<number, [boolean, boolean, boolean, boolean]> = {
  0: [false, false, false, false],
  1: [true, true, false, false],
  2: [true, true, true, false],
  3: [true, true, true, true],
  5: [true, false, false, false],
  6: [true, false, true, false],
  7: [true, false, true, false],
};

function modelHit(regions: (ModelRegion | null)[], va: number, mask: number): number {
  let hit = -1;
  for (let i = 0; i < regions.length; i++) {
    const r = regions[i];
    if (r === null || Math.floor(mask / 2 ** i) % 2 === 0) continue;
    if (va < r.base || va >= r.base + r.size) continue;
    const sub = Math.floor((va - r.base) / (r.size / 8));
    if (r.size >= 256 && Math.floor(r.srd / 2 ** sub) % 2 === 1) continue;
    hit = i;
  }
  return hit;
}

function model(regions: (ModelRegion | null)[], ctrl: number, va: number, access: number, mask: number): number {
  return modelAccess(ctrl, va, access, () => {
    const hit = modelHit(regions, va, mask);
    if (hit < 0) return undefined;
    const r = regions[hit] as ModelRegion;
    return modelPermission(AP_TABLE[r.ap], !r.xn, access);
  });
}

// Regions crowd a 64 KiB window so that they overlap often; now and then a big one spans the whole space.
const WINDOW = 0x2000_0000;
const region: fc.Arbitrary<ModelRegion> = fc
  .record({
    log2: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 17, max: 32 }) }, { weight: 4, arbitrary: fc.integer({ min: 5, max: 16 }) }),
    slot: fc.nat(),
    srd: fc.integer({ min: 0, max: 255 }),
    ap: fc.constantFrom(0, 1, 2, 3, 5, 6, 7),
    xn: fc.boolean(),
    enable: fc.boolean(),
  })
  .map(({ log2, slot, srd, ap, xn, enable }) => {
    const size = 2 ** log2;
    const base = log2 > 16 ? (Math.floor(WINDOW / size) * size) % 2 ** 32 : WINDOW + (slot % (0x1_0000 / size)) * size;
    return { base, size, srd: log2 < 8 ? 0 : srd, ap, xn, enable };
  });

const address = modelAddress(WINDOW);

describe('Mpu lookup against a brute-force model of PMSAv7', () => {
  it('agrees on the deciding region and the verdict for every access', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<8 | 16>(8, 16),
        fc.array(fc.option(region, { nil: null }), { minLength: 16, maxLength: 16 }),
        fc.constantFrom(0, 1, 4, 5, 7),
        fc.array(fc.tuple(address, fc.integer({ min: 0, max: 15 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffff }),
        (count, all, ctrl, accesses, otherMask) => {
          const regions = all.slice(0, count);
          const mpu = new Mpu({ regions: count });
          regions.forEach((r, i) => {
            if (r !== null) mpu.program(i, r);
          });
          mpu.setCtrl(ctrl);
          mpu.check();
          const enabledMask = regions.reduce((m, r, i) => (r?.enable ? m | (1 << i) : m), 0);
          expect(mpu.enabledMask).toBe(enabledMask);
          const programmed = regions.reduce((m, r, i) => (r !== null ? m | (1 << i) : m), 0);
          const mask = otherMask & (2 ** count - 1);
          for (const [va, access] of accesses) {
            expect(mpu.permit(va, access)).toBe(model(regions, ctrl, va, access, enabledMask));
            expect(mpu.permit(va, access, mask)).toBe(model(regions, ctrl, va, access, mask & programmed));
            if (Number.isInteger(va) && va >= 0 && va < 2 ** 32 && !(va >= 0xe000_0000 && va < 0xe010_0000)) {
              expect(mpu.regionAt(va)).toBe(modelHit(regions, va, enabledMask));
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
