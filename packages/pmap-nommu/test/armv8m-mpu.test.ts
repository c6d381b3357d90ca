import { describe, expect, it } from 'vitest';
import { FaultCode } from '@vmlayers/phys';
import { ARMV8M_DEFAULT_MAIR, Armv8mAp, Armv8mAttr, Armv8mMpu, MpuCtrl } from '../src/index.js';
import { R, U, W, X, expectApVerdicts, expectError } from './support.js';

const OK = 0;
const PROT = FaultCode.PROTECTION;
const SRAM = 0x2000_0000;

function freshMpu(regions: 8 | 16 = 16): Armv8mMpu {
  const mpu = new Armv8mMpu({ regions });
  mpu.setMair(0, ARMV8M_DEFAULT_MAIR[0]);
  mpu.setCtrl(MpuCtrl.ENABLE | MpuCtrl.PRIVDEFENA);
  return mpu;
}

describe('Armv8mMpu access permissions (RBAR.AP, XN)', () => {
  // [AP, privileged read, privileged write, unprivileged read, unprivileged write]
  const table: [number, boolean, boolean, boolean, boolean][] = [
    [0b00, true, true, false, false],
    [0b01, true, true, true, true],
    [0b10, true, false, false, false],
    [0b11, true, false, true, false],
  ];
  it.each(table)('AP %i: pR %s pW %s uR %s uW %s; execute needs read and XN clear', (ap, pr, pw, ur, uw) => {
    for (const xn of [false, true]) {
      const mpu = freshMpu();
      mpu.program(0, { base: SRAM, limit: SRAM + 0x2ff, ap, xn, attrIndx: Armv8mAttr.NORMAL_WB, enable: true });
      expectApVerdicts((va, a) => mpu.permit(va, a), SRAM + 0x180, [pr, pw, ur, uw], !xn);
      mpu.check();
    }
  });

  it('never executes from a region whose MAIR attribute is Device memory, XN or not', () => {
    const mpu = freshMpu();
    mpu.program(0, { base: SRAM, limit: SRAM + 0x1f, ap: Armv8mAp.RW, attrIndx: Armv8mAttr.DEVICE, enable: true });
    expect(mpu.permit(SRAM, R | W | U)).toBe(OK);
    expect(mpu.permit(SRAM, X)).toBe(PROT);
    expect(mpu.permit(SRAM, X | U)).toBe(PROT);
    // Rewriting MAIR0 so that Attr2 is Normal makes the same region executable: verdicts follow the attribute.
    const gen = mpu.generation;
    mpu.setMair(0, (ARMV8M_DEFAULT_MAIR[0] & ~0xff_0000) | (0x44 << 16));
    expect(mpu.generation).toBeGreaterThan(gen);
    expect(mpu.permit(SRAM, X | U)).toBe(OK);
    mpu.check();
  });
});

describe('Armv8mMpu lookup', () => {
  it('matches [BASE:00000, LIMIT:11111] exactly, at 32-byte granularity and any size', () => {
    const mpu = freshMpu();
    // 192 KiB + 96 B: no power of two, no alignment beyond 32 bytes.
    mpu.program(4, { base: SRAM + 0x20, limit: SRAM + 0x3_007f, ap: Armv8mAp.RW, enable: true });
    expect(mpu.regionAt(SRAM + 0x1f)).toBe(-1);
    expect(mpu.regionAt(SRAM + 0x20)).toBe(4);
    expect(mpu.regionAt(SRAM + 0x3_007f)).toBe(4);
    expect(mpu.regionAt(SRAM + 0x3_0080)).toBe(-1);
    expect(mpu.permit(SRAM + 0x1f, R | U)).toBe(FaultCode.NOT_MAPPED);
    expect(mpu.permit(SRAM + 0x20, R | U)).toBe(OK);
    // One region may cover the whole 4 GiB space.
    mpu.program(5, { base: 0, limit: 0xffff_ffff, ap: Armv8mAp.RO, enable: true });
    mpu.setEnabled(4, false);
    expect(mpu.regionAt(0x9000_0000)).toBe(5);
    mpu.check();
  });

  it('faults an access held by two enabled regions, whichever is higher, privileged or not (MemManage)', () => {
    const mpu = freshMpu();
    mpu.program(1, { base: SRAM, limit: SRAM + 0xffff, ap: Armv8mAp.RW, enable: true });
    mpu.program(5, { base: SRAM + 0x4000, limit: SRAM + 0x43ff, ap: Armv8mAp.RO, enable: true });
    expect(mpu.regionsAt(SRAM + 0x4100)).toBe(0b10_0010);
    expect(mpu.regionAt(SRAM + 0x4100)).toBe(-1); // TT's MRVALID is 0 on a multiple hit
    for (const access of [R, W, X, R | U, W | U, X | U]) expect(mpu.permit(SRAM + 0x4100, access)).toBe(PROT);
    // Outside the overlap the one region decides.
    expect(mpu.permit(SRAM + 0x4400, W | U)).toBe(OK);
    expect(mpu.permit(SRAM + 0x3fff, W | U)).toBe(OK);
    // A disabled region does not overlap: the other one decides again.
    mpu.setEnabled(1, false);
    expect(mpu.regionAt(SRAM + 0x4100)).toBe(5);
    expect(mpu.permit(SRAM + 0x4100, R | U)).toBe(OK);
    expect(mpu.permit(SRAM + 0x4100, W | U)).toBe(PROT);
    // A mask given for another address space counts only its regions.
    expect(mpu.permit(SRAM + 0x4100, W | U, 0b10)).toBe(OK);
    expect(mpu.permit(SRAM + 0x4100, W | U, 0b10_0010)).toBe(PROT);
  });

  it('uses the default map only for privileged accesses that hit no region, and only with PRIVDEFENA', () => {
    const mpu = freshMpu();
    expect(mpu.permit(SRAM, R | W | X)).toBe(OK);
    expect(mpu.permit(SRAM, R | U)).toBe(FaultCode.NOT_MAPPED);
    expect(mpu.permit(0x4000_0000, R | W)).toBe(OK);
    expect(mpu.permit(0x4000_0000, X)).toBe(PROT); // Peripheral is XN in the default map
    expect(mpu.permit(0xa000_0000, X)).toBe(PROT);
    mpu.setCtrl(MpuCtrl.ENABLE);
    expect(mpu.permit(SRAM, R)).toBe(FaultCode.NOT_MAPPED);
  });

  it('checks nothing but the default map when disabled', () => {
    const mpu = new Armv8mMpu();
    mpu.program(0, { base: SRAM, limit: SRAM + 0xfff, ap: Armv8mAp.PRIV_RO, enable: true });
    mpu.program(1, { base: SRAM, limit: SRAM + 0xfff, ap: Armv8mAp.PRIV_RO, enable: true });
    expect(mpu.permit(SRAM, R | W | U)).toBe(OK);
    expect(mpu.permit(0x4000_0000, X | U)).toBe(PROT);
  });

  it('never checks the Private Peripheral Bus, which is privileged only, and never executes System space', () => {
    const mpu = freshMpu();
    mpu.program(0, { base: 0, limit: 0xffff_ffff, ap: Armv8mAp.PRIV_RO, enable: true });
    expect(mpu.regionAt(0xe000_ed00)).toBe(-1);
    expect(mpu.permit(0xe000_ed00, R | W)).toBe(OK);
    expect(mpu.permit(0xe000_ed00, R | U)).toBe(FaultCode.BAD_ADDRESS);
    expect(mpu.permit(0xf000_0000, X)).toBe(PROT);
  });

  it('answers BAD_ADDRESS for anything that is not a 32-bit address, without throwing', () => {
    const mpu = freshMpu();
    for (const va of [-1, 2 ** 32, 1.5, Number.NaN, Infinity]) expect(mpu.permit(va, R)).toBe(FaultCode.BAD_ADDRESS);
    expect(mpu.regionAt(Number.NaN)).toBe(-1);
    expect(mpu.regionsAt(Number.NaN)).toBe(0);
  });
});

describe('Armv8mMpu programming', () => {
  it.each([
    ['a base off the 32-byte granule', (m: Armv8mMpu) => m.program(0, { base: SRAM + 0x10, limit: SRAM + 0x3f, ap: 1 })],
    ['a limit not ending a granule', (m: Armv8mMpu) => m.program(0, { base: SRAM, limit: SRAM + 0x40, ap: 1 })],
    ['a limit below the base', (m: Armv8mMpu) => m.program(0, { base: SRAM + 0x40, limit: SRAM + 0x1f, ap: 1 })],
    ['AP past two bits', (m: Armv8mMpu) => m.program(0, { base: SRAM, limit: SRAM + 0x1f, ap: 4 })],
    ['the reserved SH 0b01', (m: Armv8mMpu) => m.program(0, { base: SRAM, limit: SRAM + 0x1f, ap: 1, sh: 1 })],
    ['AttrIndx 8', (m: Armv8mMpu) => m.program(0, { base: SRAM, limit: SRAM + 0x1f, ap: 1, attrIndx: 8 })],
    ['region 16 on a 16-region MPU', (m: Armv8mMpu) => m.program(16, { base: SRAM, limit: SRAM + 0x1f, ap: 1 })],
    ['region -1', (m: Armv8mMpu) => m.program(-1, { base: SRAM, limit: SRAM + 0x1f, ap: 1 })],
    ['RLAR with the reserved bit 4', (m: Armv8mMpu) => m.setRegion(0, SRAM, SRAM | 0x1f | 0x10)],
    ['RBAR with SH 0b01', (m: Armv8mMpu) => m.setRegion(0, SRAM | (1 << 3), SRAM)],
    ['a words pair whose limit lies below its base', (m: Armv8mMpu) => m.setRegion(0, SRAM + 0x40, SRAM)],
    ['a fractional base', (m: Armv8mMpu) => m.program(0, { base: SRAM + 0.5, limit: SRAM + 0x1f, ap: 1 })],
    ['a non-object region', (m: Armv8mMpu) => m.program(0, null as never)],
    ['enabling an unprogrammed region', (m: Armv8mMpu) => m.setEnabled(4, true)],
    ['an enable mask naming unprogrammed regions', (m: Armv8mMpu) => m.setEnabledMask(0b100)],
    ['an enable mask past the MPU', (m: Armv8mMpu) => m.setEnabledMask(0x1_0000)],
    ['CTRL reserved bits', (m: Armv8mMpu) => m.setCtrl(8)],
    ['HFNMIENA without ENABLE', (m: Armv8mMpu) => m.setCtrl(MpuCtrl.HFNMIENA | MpuCtrl.PRIVDEFENA)],
    ['an UNPREDICTABLE MAIR attribute', (m: Armv8mMpu) => m.setMair(1, 0xf0 << 8)],
  ])('refuses %s → EINVAL, leaving the MPU unchanged', (_name, f) => {
    const mpu = freshMpu();
    mpu.program(0, { base: SRAM, limit: SRAM + 0x7ff, ap: Armv8mAp.RO, enable: true });
    mpu.program(1, { base: SRAM + 0x800, limit: SRAM + 0xfff, ap: Armv8mAp.RW });
    const snapshot = () => [
      [0, 1, 2].map((n) => [mpu.rbar(n), mpu.rlar(n)]),
      mpu.mair(0),
      mpu.mair(1),
      mpu.ctrl,
      mpu.enabledMask,
      mpu.programmedMask,
      mpu.generation,
      mpu.epoch,
    ];
    const before = snapshot();
    expectError('EINVAL', () => f(mpu));
    expect(snapshot()).toEqual(before);
    mpu.check();
  });

  it('refuses an MPU of 12 regions', () => {
    expectError('EINVAL', () => new Armv8mMpu({ regions: 12 as 8 }));
  });

  it('clears a region back to zero words, and offers 8 regions where the part has only those', () => {
    const mpu = freshMpu(8);
    mpu.program(7, { base: SRAM, limit: SRAM + 0x1f, ap: Armv8mAp.RW, enable: true });
    expect(mpu.regionCount).toBe(8);
    expect(mpu.enabledMask).toBe(0x80);
    mpu.clearRegion(7);
    expect([mpu.rbar(7), mpu.rlar(7), mpu.region(7), mpu.enabledMask]).toEqual([0, 0, undefined, 0]);
    expectError('EINVAL', () => mpu.program(8, { base: SRAM, limit: SRAM + 0x1f, ap: 1 }));
    mpu.check();
  });
});
