import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, boards } from '@vmlayers/phys';
import { MpuAp, computeRegions, coverRange, encodeRasr } from '../src/index.js';
import type { RegionCover } from '../src/index.js';
import { expectError } from './support.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The byte ranges a region's enabled subregions cover, merged. */
function covered(regions: readonly RegionCover[]): [number, number][] {
  const parts: [number, number][] = [];
  for (const r of regions) {
    if (r.size < 256) {
      parts.push([r.base, r.base + r.size]);
      continue;
    }
    const sub = r.size / 8;
    for (let i = 0; i < 8; i++) if (((r.srd >> i) & 1) === 0) parts.push([r.base + i * sub, r.base + (i + 1) * sub]);
  }
  parts.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    expect(last === undefined || last[1] <= p[0], 'enabled parts of regions must not overlap').toBe(true);
    if (last && last[1] === p[0]) last[1] = p[1];
    else out.push([p[0], p[1]]);
  }
  return out;
}


describe('coverRange', () => {
  it('covers aligned power-of-two ranges with one region', () => {
    expect(coverRange(0x2000_0000, 0x2008_0000)).toEqual([{ base: 0x2000_0000, size: 512 * KiB, srd: 0 }]);
    expect(coverRange(0, 2 ** 32)).toEqual([{ base: 0, size: 2 ** 32, srd: 0 }]);
    expect(coverRange(0x40, 0x60)).toEqual([{ base: 0x40, size: 32, srd: 0 }]);
  });

  it('trims with subregion masks as the loader does', () => {
    // 384 KiB at the bottom of a 512 KiB region: subregions 6 and 7 disabled.
    expect(coverRange(0x2000_0000, 0x2006_0000)).toEqual([{ base: 0x2000_0000, size: 512 * KiB, srd: 0b1100_0000 }]);
    // The top 61 MiB of a 64 MiB bank in two regions.
    expect(coverRange(0x8030_0000, 0x8400_0000)).toEqual([
      { base: 0x8000_0000, size: 8 * MiB, srd: 0b0000_0111 },
      { base: 0x8000_0000, size: 64 * MiB, srd: 0b0000_0001 },
    ]);
  });

  it('covers exactly [base, end) with legal regions, for any 32-byte aligned range', () => {
    const range = fc
      .tuple(fc.integer({ min: 0, max: 2 ** 27 - 1 }), fc.integer({ min: 1, max: 2 ** 27 }))
      .filter(([a, n]) => a + n <= 2 ** 27)
      .map(([a, n]) => [a * 32, (a + n) * 32] as const);
    const small = fc
      .tuple(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 1, max: 4096 }))
      .map(([a, n]) => [0x2000_0000 + a * 32, 0x2000_0000 + (a + n) * 32] as const);
    fc.assert(
      fc.property(fc.oneof(range, small), ([base, end]) => {
        const regions = coverRange(base, end);
        for (const r of regions) {
          expect(r.base % r.size).toBe(0);
          expect(() => encodeRasr({ size: r.size, srd: r.srd, ap: MpuAp.FULL_ACCESS })).not.toThrow();
          expect(r.srd).not.toBe(0xff);
        }
        expect(covered(regions)).toEqual([[base, end]]);
        // A power-of-two cover never needs more than two regions per bit of the range's length.
        expect(regions.length).toBeLessThanOrEqual(2 * 32);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses unaligned, empty and out-of-space ranges', () => {
    expectError('EINVAL', () => coverRange(0x10, 0x40));
    expectError('EINVAL', () => coverRange(0x40, 0x40));
    expectError('EINVAL', () => coverRange(0, 2 ** 32 + 32));
  });
});

describe('computeRegions', () => {
  it('gives stm32-512k one region per map: flash read-only executable, SRAM full access, peripherals XN', () => {
    const layout = computeRegions(boards.get('stm32-512k'));
    expect(layout.regionCount).toBe(8);
    expect(layout.regions).toEqual([
      { slot: 0, map: 'flash', kind: 'reserved', base: 0x0800_0000, size: MiB, srd: 0, ap: MpuAp.RO, xn: false, tex: 0, s: false, c: true, b: false },
      { slot: 1, map: 'sram', kind: 'ram', base: 0x2000_0000, size: 512 * KiB, srd: 0, ap: MpuAp.FULL_ACCESS, xn: false, tex: 0, s: true, c: true, b: false },
      { slot: 2, map: 'peripherals', kind: 'device', base: 0x4000_0000, size: 512 * MiB, srd: 0, ap: MpuAp.FULL_ACCESS, xn: true, tex: 0, s: true, c: false, b: true },
    ]);
    expect([...layout.maps]).toEqual([
      ['flash', 0b001],
      ['sram', 0b010],
      ['peripherals', 0b100],
    ]);
  });

  it('spreads a map over several slots and records them all under its name', () => {
    const layout = computeRegions(boards.get('riscv-virt-64m'));
    expect(layout.maps.get('dram')).toBe(0b0110_0000);
    expect(layout.regions.filter((r) => r.map === 'dram').map((r) => r.slot)).toEqual([5, 6]);
  });

  it('says which map does not fit and what each needs when the MPU runs out of regions', () => {
    expectError('EINVAL', () => computeRegions(boards.get('ia32-pc-32m')), /8 MPU regions: map bios-rom does not fit.*conventional: 5/);
    expect(computeRegions(boards.get('ia32-pc-32m'), { regions: 16 }).regions).toHaveLength(12);
  });

  it('refuses maps above 4 GiB', () => {
    expectError('EINVAL', () => computeRegions(boards.get('riscv-virt-4g')), /dram .* beyond the 32-bit address space/);
  });

  it('takes region attributes from the caller and validates them', () => {
    const board = new BoardMemoryMap([{ base: 0x2000_0000, size: 64 * KiB, kind: 'ram', name: 'sram' }]);
    const layout = computeRegions(board, { attributes: () => ({ ap: MpuAp.PRIV_RW, xn: true, tex: 1, s: false, c: false, b: false }) });
    expect(layout.regions[0]).toMatchObject({ ap: MpuAp.PRIV_RW, xn: true, tex: 1 });
    expectError('EINVAL', () => computeRegions(board, { attributes: () => ({ ap: 4, xn: true, tex: 0, s: false, c: false, b: false }) }));
    expectError('EINVAL', () => computeRegions(board, { regions: 4 as 8 }));
  });
});
