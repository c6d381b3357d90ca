import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVmError } from '@vmlayers/phys';
import {
  MpuAp,
  RASR_DEFINED_BITS,
  coveredBytes,
  decodeRasr,
  decodeRbar,
  encodeRasr,
  encodeRbar,
} from '../src/index.js';
import type { RasrFields } from '../src/index.js';

const validAps = [0, 1, 2, 3, 5, 6, 7];

/** Every field combination ARMv7-M allows. */
const rasrFields: fc.Arbitrary<RasrFields> = fc
  .record({
    log2: fc.integer({ min: 5, max: 32 }),
    srd: fc.integer({ min: 0, max: 255 }),
    ap: fc.constantFrom(...validAps),
    xn: fc.boolean(),
    tex: fc.integer({ min: 0, max: 7 }),
    s: fc.boolean(),
    c: fc.boolean(),
    b: fc.boolean(),
    enable: fc.boolean(),
  })
  .map(({ log2, srd, ...rest }) => ({ size: 2 ** log2, srd: log2 < 8 ? 0 : srd, ...rest }));

function expectEinval(f: () => unknown): void {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isVmError(caught, 'EINVAL'), String(caught)).toBe(true);
}

describe('RASR encoding (ARMv7-M ARM B3.5.10)', () => {
  it('places every field where the architecture puts it', () => {
    // 512 KiB SRAM, full access, Normal write-through shareable, enabled: SIZE = 18.
    expect(encodeRasr({ size: 512 * 1024, ap: MpuAp.FULL_ACCESS, s: true, c: true, enable: true })).toBe(
      (3 << 24) | (1 << 18) | (1 << 17) | (18 << 1) | 1,
    );
    // The smallest region: SIZE = 4.
    expect(encodeRasr({ size: 32, ap: MpuAp.NO_ACCESS })).toBe(4 << 1);
    // The whole 4 GiB space: SIZE = 31, with XN, TEX = 7, B and all subregions but 0 disabled.
    expect(encodeRasr({ size: 2 ** 32, ap: MpuAp.RO_ALT, xn: true, tex: 7, b: true, srd: 0xfe })).toBe(
      ((1 << 28) | (7 << 24) | (7 << 19) | (1 << 16) | (0xfe << 8) | (31 << 1)) >>> 0,
    );
    expect(decodeRasr(0x1307_ff3f)).toEqual({
      size: 2 ** 32,
      srd: 0xff,
      ap: MpuAp.FULL_ACCESS,
      xn: true,
      tex: 0,
      s: true,
      c: true,
      b: true,
      enable: true,
    });
  });

  it('round-trips fields → word → fields for every legal combination', () => {
    fc.assert(
      fc.property(rasrFields, (f) => {
        const w = encodeRasr(f);
        expect(w >>> 0).toBe(w);
        expect(w & ~RASR_DEFINED_BITS).toBe(0);
        expect(decodeRasr(w)).toEqual(f);
      }),
    );
  });

  it('round-trips word → fields → word for every word it accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (w) => {
        let f: RasrFields;
        try {
          f = decodeRasr(w);
        } catch (e) {
          // Refused words break one of the rules: reserved bits, SIZE < 4, AP 0b100, SRD below 256 B.
          expect(isVmError(e, 'EINVAL')).toBe(true);
          const size = (w >>> 1) & 0x1f;
          const ap = (w >>> 24) & 7;
          const srd = (w >>> 8) & 0xff;
          expect((w & ~RASR_DEFINED_BITS) !== 0 || size < 4 || ap === 4 || (size < 7 && srd !== 0)).toBe(true);
          return;
        }
        expect(encodeRasr(f)).toBe(w);
      }),
    );
  });

  it.each([
    ['size not a power of two', { size: 48, ap: 3 }],
    ['size below 32', { size: 16, ap: 3 }],
    ['size above 4 GiB', { size: 2 ** 33, ap: 3 }],
    ['size zero', { size: 0, ap: 3 }],
    ['size NaN', { size: Number.NaN, ap: 3 }],
    ['reserved AP 0b100', { size: 1024, ap: 4 }],
    ['AP out of range', { size: 1024, ap: 8 }],
    ['subregions on a 128-byte region', { size: 128, ap: 3, srd: 1 }],
    ['SRD wider than 8 bits', { size: 1024, ap: 3, srd: 256 }],
    ['TEX wider than 3 bits', { size: 1024, ap: 3, tex: 8 }],
    ['XN not a boolean', { size: 1024, ap: 3, xn: 1 as unknown as boolean }],
  ])('refuses %s → EINVAL', (_name, fields) => {
    expectEinval(() => encodeRasr(fields));
  });

  it.each([
    ['a reserved bit', 0x8000_0009],
    ['SIZE 3', 3 << 1],
    ['SIZE 0', 0],
    ['AP 0b100', (4 << 24) | (10 << 1)],
    ['SRD on a 64-byte region', (1 << 8) | (5 << 1)],
    ['a non-word', 2 ** 32],
    ['a negative number', -1],
  ])('decodeRasr refuses %s → EINVAL', (_name, w) => {
    expectEinval(() => decodeRasr(w));
  });
});

describe('RBAR encoding (ARMv7-M ARM B3.5.9)', () => {
  it('puts ADDR in bits [31:5], VALID in bit 4, REGION in bits [3:0]', () => {
    expect(encodeRbar(0x2000_0000)).toBe(0x2000_0000);
    expect(encodeRbar(0x2000_0000, 3)).toBe(0x2000_0013);
    expect(encodeRbar(0xffff_ffe0, 15)).toBe(0xffff_ffff);
    expect(decodeRbar(0x2000_0013)).toEqual({ base: 0x2000_0000, valid: true, region: 3 });
    expect(decodeRbar(0xe000_0000)).toEqual({ base: 0xe000_0000, valid: false, region: 0 });
  });

  it('round-trips base and region', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7ff_ffff }), fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }), (k, region) => {
        const base = k * 32;
        const w = encodeRbar(base, region);
        expect(decodeRbar(w)).toEqual({ base, valid: region !== undefined, region: region ?? 0 });
      }),
    );
  });

  it('refuses a base below 32-byte alignment, a region number above 15 and non-words', () => {
    expectEinval(() => encodeRbar(0x2000_0010));
    expectEinval(() => encodeRbar(0x2000_0000, 16));
    expectEinval(() => encodeRbar(2 ** 32));
    expectEinval(() => decodeRbar(-1));
  });
});

describe('coveredBytes', () => {
  it('counts the enabled subregions', () => {
    expect(coveredBytes(1024, 0)).toBe(1024);
    expect(coveredBytes(1024, 0xff)).toBe(0);
    expect(coveredBytes(1024, 0b1000_0001)).toBe(768);
    expect(coveredBytes(2 ** 32, 0x0f)).toBe(2 ** 31);
  });
});
