import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultCode } from '@vmlayers/phys';
import { Armv8mMpu } from '../src/index.js';
import { modelAccess, modelAddress, modelPermission } from './support.js';

/*
 * A brute-force reading of PMSAv8 (ARMv8-M ARM, the MPU check): collect every enabled region with
 * BASE:'00000' ≤ address ≤ LIMIT:'11111'; two or more → MemManage; one → its AP (a literal table) and XN, with
 * Device memory never executable; none → the default map for privileged accesses under PRIVDEFENA.
 */
interface ModelRegion {
  base: number;
  limit: number;
  ap: number;
  xn: boolean;
  attrIndx: number;
  enable: boolean;
}

// AP → [privileged read, privileged write, unprivileged read, unprivileged write]
const AP_TABLE: Record<number, [boolean, boolean, boolean, boolean]> = {
  0: [true, true, false, false],
  1: [true, true, true, true],
  2: [true, false, false, false],
  3: [true, false, true, false],
};

function modelHits(regions: (ModelRegion | null)[], va: number, mask: number): number[] {
  const hits: number[] = [];
  regions.forEach((r, i) => {
    if (r !== null && Math.floor(mask / 2 ** i) % 2 === 1 && va >= r.base && va <= r.limit) hits.push(i);
  });
  return hits;
}

function model(regions: (ModelRegion | null)[], mair: number[], ctrl: number, va: number, access: number, mask: number): number {
  return modelAccess(ctrl, va, access, () => {
    const hits = modelHits(regions, va, mask);
    if (hits.length === 0) return undefined;
    if (hits.length > 1) return FaultCode.PROTECTION;
    const r = regions[hits[0]] as ModelRegion;
    // An attribute byte with a zero upper nibble is Device memory: never executed.
    return modelPermission(AP_TABLE[r.ap], !r.xn && mair[r.attrIndx] >= 16, access);
  });
}

// Regions crowd a 64 KiB window so that they overlap often; now and then one spans far more.
const WINDOW = 0x2000_0000;
const region: fc.Arbitrary<ModelRegion> = fc
  .record({
    wide: fc.boolean(),
    start: fc.integer({ min: 0, max: 0x7ff }),
    granules: fc.integer({ min: 1, max: 0x400 }),
    ap: fc.integer({ min: 0, max: 3 }),
    xn: fc.boolean(),
    attrIndx: fc.integer({ min: 0, max: 7 }),
    enable: fc.boolean(),
  })
  .map(({ wide, start, granules, ap, xn, attrIndx, enable }) => {
    const base = wide ? 0x1000_0000 + start * 0x2_0000 : WINDOW + start * 32;
    const limit = Math.min(base + granules * (wide ? 0x10_0000 : 32) - 1, 0xffff_ffff);
    return { base, limit, ap, xn, attrIndx, enable };
  });

// Device (nGnRnE … GRE) and Normal attribute bytes.
const attrByte = fc.constantFrom(0x00, 0x04, 0x08, 0x0c, 0x44, 0xaa, 0xff, 0x11);

const address = modelAddress(WINDOW);

describe('Armv8mMpu lookup against a brute-force model of PMSAv8', () => {
  it('agrees on the holding regions and the verdict for every access, overlaps included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<8 | 16>(8, 16),
        fc.array(fc.option(region, { nil: null }), { minLength: 16, maxLength: 16 }),
        fc.array(attrByte, { minLength: 8, maxLength: 8 }),
        fc.constantFrom(0, 1, 3, 4, 5, 7),
        fc.array(fc.tuple(address, fc.integer({ min: 0, max: 15 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 0xffff }),
        (count, all, mair, ctrl, accesses, otherMask) => {
          const regions = all.slice(0, count);
          const mpu = new Armv8mMpu({ regions: count });
          mpu.setMair(0, (mair[0] | (mair[1] << 8) | (mair[2] << 16) | (mair[3] << 24)) >>> 0);
          mpu.setMair(1, (mair[4] | (mair[5] << 8) | (mair[6] << 16) | (mair[7] << 24)) >>> 0);
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
            expect(mpu.permit(va, access)).toBe(model(regions, mair, ctrl, va, access, enabledMask));
            expect(mpu.permit(va, access, mask)).toBe(model(regions, mair, ctrl, va, access, mask & programmed));
            if (Number.isInteger(va) && va >= 0 && va < 2 ** 32 && !(va >= 0xe000_0000 && va < 0xe010_0000)) {
              const hits = modelHits(regions, va, enabledMask);
              expect(mpu.regionsAt(va)).toBe(hits.reduce((m, i) => m | (1 << i), 0));
              expect(mpu.regionAt(va)).toBe(hits.length === 1 ? hits[0] : -1);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
