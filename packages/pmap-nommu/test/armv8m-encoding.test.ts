/*
 * PMSAv8 register words, written from the ARMv8-M Architecture Reference Manual's bit positions here in the test
 * (not with the package's encoders):
 *   MPU_RBAR  [31:5] BASE  [4:3] SH  [2:1] AP  [0] XN
 *   MPU_RLAR  [31:5] LIMIT  [4] reserved  [3:1] AttrIndx  [0] EN
 *   MPU_CTRL  [2] PRIVDEFENA  [1] HFNMIENA  [0] ENABLE
 *   MPU_MAIR0 Attr0 [7:0] … Attr3 [31:24]; Attr 0b0000dd00 Device, 0bOOOOIIII Normal
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Armv8mAp,
  Armv8mMpu,
  Armv8mSh,
  MpuCtrl,
  decodeArmv8mRbar,
  decodeMairAttr,
  decodeRlar,
  encodeArmv8mRbar,
  encodeMairAttr,
  encodeRlar,
} from '../src/index.js';
import type { MemoryAttributes } from '../src/index.js';
import { expectError } from './support.js';

const rbarWord = (base: number, sh: number, ap: number, xn: number): number => (((base >>> 5) << 5) | (sh << 3) | (ap << 1) | xn) >>> 0;
const rlarWord = (limit: number, attrIndx: number, en: number): number => (((limit >>> 5) << 5) | (attrIndx << 1) | en) >>> 0;

describe('MPU_RBAR (ARMv8-M): BASE [31:5], SH [4:3], AP [2:1], XN [0]', () => {
  it('places every field at the manual bit positions', () => {
    expect(encodeArmv8mRbar({ base: 0x2000_0000, ap: Armv8mAp.RW })).toBe(0x2000_0000 | (0b01 << 1));
    expect(encodeArmv8mRbar({ base: 0x2000_0020, ap: Armv8mAp.PRIV_RW, sh: Armv8mSh.INNER, xn: true })).toBe(0x2000_0020 | (0b11 << 3) | 1);
    expect(encodeArmv8mRbar({ base: 0xffff_ffe0, ap: Armv8mAp.RO, sh: Armv8mSh.OUTER, xn: true })).toBe((0xffff_ffe0 | (0b10 << 3) | (0b11 << 1) | 1) >>> 0);
    expect(encodeArmv8mRbar({ base: 0x0800_0000, ap: Armv8mAp.PRIV_RO })).toBe(0x0800_0000 | (0b10 << 1));
    expect(decodeArmv8mRbar(0x2003_0000 | (0b11 << 3) | (0b11 << 1) | 1)).toEqual({ base: 0x2003_0000, sh: 3, ap: 3, xn: true });
    expect(decodeArmv8mRbar(0x4000_0000 | (0b10 << 1))).toEqual({ base: 0x4000_0000, sh: 0, ap: 2, xn: false });
  });

  it('round-trips every legal field combination against the hand-written word', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x7ff_ffff }),
        fc.constantFrom(0, 2, 3),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (k, sh, ap, xn) => {
          const base = k * 32;
          const w = rbarWord(base, sh, ap, xn ? 1 : 0);
          expect(encodeArmv8mRbar({ base, sh, ap, xn })).toBe(w);
          expect(decodeArmv8mRbar(w)).toEqual({ base, sh, ap, xn });
        },
      ),
    );
  });

  it('refuses a base off the 32-byte granule, the reserved SH 0b01, AP past 2 bits and non-words', () => {
    expectError('EINVAL', () => encodeArmv8mRbar({ base: 0x2000_0010, ap: 1 }));
    expectError('EINVAL', () => encodeArmv8mRbar({ base: 0x2000_0000, ap: 1, sh: 1 }));
    expectError('EINVAL', () => encodeArmv8mRbar({ base: 0x2000_0000, ap: 4 }));
    expectError('EINVAL', () => encodeArmv8mRbar({ base: 2 ** 32, ap: 1 }));
    expectError('EINVAL', () => encodeArmv8mRbar({ base: 0x2000_0000, ap: 1, xn: 1 as unknown as boolean }));
    expectError('EINVAL', () => decodeArmv8mRbar(0x2000_0000 | (0b01 << 3)));
    expectError('EINVAL', () => decodeArmv8mRbar(-1));
  });
});

describe('MPU_RLAR (ARMv8-M): LIMIT [31:5], AttrIndx [3:1], EN [0]', () => {
  it('places every field at the manual bit positions; LIMIT reads back with the low five bits set', () => {
    expect(encodeRlar({ limit: 0x2002_ffff, attrIndx: 0, enable: true })).toBe(0x2002_ffe0 | 1);
    expect(encodeRlar({ limit: 0x4000_001f, attrIndx: 2 })).toBe(0x4000_0000 | (2 << 1));
    expect(encodeRlar({ limit: 0xffff_ffff, attrIndx: 7, enable: true })).toBe(0xffff_ffef);
    expect(decodeRlar(0x2002_ffe0 | (5 << 1) | 1)).toEqual({ limit: 0x2002_ffff, attrIndx: 5, enable: true });
    expect(decodeRlar(0)).toEqual({ limit: 0x1f, attrIndx: 0, enable: false });
  });

  it('round-trips every legal field combination against the hand-written word', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7ff_ffff }), fc.integer({ min: 0, max: 7 }), fc.boolean(), (k, attrIndx, enable) => {
        const limit = k * 32 + 31;
        const w = rlarWord(limit, attrIndx, enable ? 1 : 0);
        expect(encodeRlar({ limit, attrIndx, enable })).toBe(w);
        expect(decodeRlar(w)).toEqual({ limit, attrIndx, enable });
      }),
    );
  });

  it('refuses a limit that does not end a granule, AttrIndx past 3 bits and the reserved bit 4', () => {
    expectError('EINVAL', () => encodeRlar({ limit: 0x2000_0000 }));
    expectError('EINVAL', () => encodeRlar({ limit: 0x2000_001e }));
    expectError('EINVAL', () => encodeRlar({ limit: 0x2000_001f, attrIndx: 8 }));
    expectError('EINVAL', () => decodeRlar(1 << 4));
    expectError('EINVAL', () => decodeRlar(2 ** 32));
  });
});

describe('MPU_MAIR attributes (ARMv8-M): Device 0b0000dd00, Normal 0bOOOOIIII', () => {
  it.each<[number, MemoryAttributes]>([
    [0b0000_0000, { type: 'device', device: 'nGnRnE' }],
    [0b0000_0100, { type: 'device', device: 'nGnRE' }],
    [0b0000_1000, { type: 'device', device: 'nGRE' }],
    [0b0000_1100, { type: 'device', device: 'GRE' }],
    [0b0100_0100, { type: 'normal', outer: 0b0100, inner: 0b0100 }], // non-cacheable
    [0b1111_1111, { type: 'normal', outer: 0b1111, inner: 0b1111 }], // write-back non-transient, RA WA
    [0b1010_1010, { type: 'normal', outer: 0b1010, inner: 0b1010 }], // write-through non-transient, RA
  ])('attr %i decodes and encodes back', (byte, attr) => {
    expect(decodeMairAttr(byte)).toEqual(attr);
    expect(encodeMairAttr(attr)).toBe(byte);
  });

  it('refuses the UNPREDICTABLE encodings', () => {
    for (const byte of [0b0000_0001, 0b0000_0010, 0b0000_0111, 0b0001_0000, 0b1111_0000]) expectError('EINVAL', () => decodeMairAttr(byte));
    expectError('EINVAL', () => decodeMairAttr(0x100));
    expectError('EINVAL', () => encodeMairAttr({ type: 'normal', outer: 0, inner: 4 }));
    expectError('EINVAL', () => encodeMairAttr({ type: 'device', device: 'GnRE' as 'GRE' }));
  });

  it('indexes Attr0–Attr3 in MAIR0 and Attr4–Attr7 in MAIR1, a byte each from bit 0', () => {
    const mpu = new Armv8mMpu();
    mpu.setMair(0, (0xff << 0) | (0xaa << 8) | (0x04 << 16) | (0x44 << 24));
    mpu.setMair(1, 0x0c << 24);
    expect(mpu.attribute(0)).toEqual({ type: 'normal', outer: 15, inner: 15 });
    expect(mpu.attribute(1)).toEqual({ type: 'normal', outer: 10, inner: 10 });
    expect(mpu.attribute(2)).toEqual({ type: 'device', device: 'nGnRE' });
    expect(mpu.attribute(3)).toEqual({ type: 'normal', outer: 4, inner: 4 });
    expect(mpu.attribute(4)).toEqual({ type: 'device', device: 'nGnRnE' });
    expect(mpu.attribute(7)).toEqual({ type: 'device', device: 'GRE' });
    const before = [mpu.mair(0), mpu.mair(1), mpu.generation];
    expectError('EINVAL', () => mpu.setMair(0, 0x0000_0001)); // Attr0 UNPREDICTABLE
    expectError('EINVAL', () => mpu.setMair(2, 0));
    expect([mpu.mair(0), mpu.mair(1), mpu.generation]).toEqual(before);
  });
});

describe('MPU registers read back as the manual lays them out', () => {
  it('RBAR/RLAR words of a programmed region, MPU_TYPE.DREGION [15:8], MPU_CTRL bits 2/1/0', () => {
    const mpu = new Armv8mMpu();
    mpu.program(3, { base: 0x2000_0000, limit: 0x2002_ffff, ap: Armv8mAp.RW, sh: Armv8mSh.INNER, attrIndx: 1, enable: true });
    expect(mpu.rbar(3)).toBe(0x2000_0000 | (0b11 << 3) | (0b01 << 1));
    expect(mpu.rlar(3)).toBe(0x2002_ffe0 | (1 << 1) | 1);
    mpu.setEnabled(3, false);
    expect(mpu.rlar(3)).toBe(0x2002_ffe0 | (1 << 1));
    expect(mpu.type).toBe(16 << 8);
    expect(new Armv8mMpu({ regions: 8 }).type).toBe(8 << 8);
    mpu.setCtrl((1 << 2) | (1 << 1) | 1);
    expect(mpu.ctrl).toBe(MpuCtrl.PRIVDEFENA | MpuCtrl.HFNMIENA | MpuCtrl.ENABLE);
    expect([MpuCtrl.PRIVDEFENA, MpuCtrl.HFNMIENA, MpuCtrl.ENABLE]).toEqual([1 << 2, 1 << 1, 1 << 0]);
    // HFNMIENA without ENABLE is UNPREDICTABLE in the manual: refused, CTRL unchanged.
    expectError('EINVAL', () => mpu.setCtrl(1 << 1));
    expectError('EINVAL', () => mpu.setCtrl(1 << 3));
    expect(mpu.ctrl).toBe(7);
    // setRegion takes the hand-written words.
    mpu.setRegion(0, rbarWord(0x0800_0000, 0, 0b11, 0), rlarWord(0x080f_ffff, 1, 1));
    expect(mpu.region(0)).toEqual({ base: 0x0800_0000, sh: 0, ap: 3, xn: false, limit: 0x080f_ffff, attrIndx: 1, enable: true });
    mpu.check();
  });
});
