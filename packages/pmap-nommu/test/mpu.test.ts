import { describe, expect, it } from 'vitest';
import { FaultCode } from '@vmlayers/phys';
import { Mpu, MpuAp, MpuCtrl, encodeRasr } from '../src/index.js';
import { R, U, W, X, expectApVerdicts, expectError } from './support.js';

const OK = 0;
const PROT = FaultCode.PROTECTION;


function freshMpu(regions: 8 | 16 = 8): Mpu {
  const mpu = new Mpu({ regions });
  mpu.setCtrl(MpuCtrl.ENABLE | MpuCtrl.PRIVDEFENA);
  return mpu;
}

describe('Mpu access permissions (ARMv7-M ARM Table B3-15)', () => {
  // [AP, privileged read, privileged write, unprivileged read, unprivileged write]
  const table: [number, boolean, boolean, boolean, boolean][] = [
    [0b000, false, false, false, false],
    [0b001, true, true, false, false],
    [0b010, true, true, true, false],
    [0b011, true, true, true, true],
    [0b101, true, false, false, false],
    [0b110, true, false, true, false],
    [0b111, true, false, true, false],
  ];
  it.each(table)('AP %i: pR %s pW %s uR %s uW %s; execute needs read and XN clear', (ap, pr, pw, ur, uw) => {
    for (const xn of [false, true]) {
      const mpu = freshMpu();
      mpu.program(0, { base: 0x2000_0000, size: 0x1000, ap, xn, enable: true });
      expectApVerdicts((va, a) => mpu.permit(va, a), 0x2000_0800, [pr, pw, ur, uw], !xn);
      mpu.check();
    }
  });
});

describe('Mpu lookup', () => {
  it('gives an overlap to the higher-numbered region', () => {
    const mpu = freshMpu();
    mpu.program(1, { base: 0x2000_0000, size: 0x1_0000, ap: MpuAp.FULL_ACCESS, enable: true });
    mpu.program(5, { base: 0x2000_4000, size: 0x400, ap: MpuAp.RO, enable: true });
    mpu.program(3, { base: 0x2000_4000, size: 0x1000, ap: MpuAp.NO_ACCESS, enable: true });
    expect(mpu.regionAt(0x2000_4100)).toBe(5);
    expect(mpu.permit(0x2000_4100, W | U)).toBe(PROT);
    expect(mpu.permit(0x2000_4100, R | U)).toBe(OK);
    expect(mpu.regionAt(0x2000_4800)).toBe(3);
    expect(mpu.permit(0x2000_4800, R)).toBe(PROT);
    expect(mpu.regionAt(0x2000_8000)).toBe(1);
    expect(mpu.permit(0x2000_8000, W | U)).toBe(OK);
    // Disabling the top region uncovers the next one down.
    mpu.setEnabled(5, false);
    expect(mpu.regionAt(0x2000_4100)).toBe(3);
  });

  it('lets a disabled subregion fall through to lower regions and then to the background map', () => {
    const mpu = freshMpu();
    mpu.program(0, { base: 0x2000_0000, size: 0x800, ap: MpuAp.PRIV_RW_USER_RO, enable: true });
    // 2 KiB region, subregions of 256 B; subregions 2 and 7 disabled.
    mpu.program(6, { base: 0x2000_0000, size: 0x800, ap: MpuAp.FULL_ACCESS, srd: 0b1000_0100, enable: true });
    expect(mpu.regionAt(0x2000_0100)).toBe(6);
    expect(mpu.regionAt(0x2000_0200)).toBe(0);
    expect(mpu.regionAt(0x2000_02ff)).toBe(0);
    expect(mpu.regionAt(0x2000_0300)).toBe(6);
    expect(mpu.regionAt(0x2000_0700)).toBe(0);
    expect(mpu.permit(0x2000_0200, W | U)).toBe(PROT);
    expect(mpu.permit(0x2000_0300, W | U)).toBe(OK);
    mpu.setEnabled(0, false);
    expect(mpu.regionAt(0x2000_0200)).toBe(-1);
    expect(mpu.permit(0x2000_0200, W | U)).toBe(FaultCode.NOT_MAPPED);
    expect(mpu.permit(0x2000_0200, W)).toBe(OK);
  });

  it('uses the default map for privileged misses only with PRIVDEFENA, and faults unprivileged ones', () => {
    const mpu = freshMpu();
    expect(mpu.permit(0x2000_0000, R | W | X)).toBe(OK);
    expect(mpu.permit(0x2000_0000, R | U)).toBe(FaultCode.NOT_MAPPED);
    // Peripheral and Device ranges of the default map are Execute Never.
    expect(mpu.permit(0x4000_0000, R | W)).toBe(OK);
    expect(mpu.permit(0x4000_0000, X)).toBe(PROT);
    expect(mpu.permit(0x6000_0000, X)).toBe(OK);
    expect(mpu.permit(0xa000_0000, X)).toBe(PROT);
    mpu.setCtrl(MpuCtrl.ENABLE);
    expect(mpu.permit(0x2000_0000, R)).toBe(FaultCode.NOT_MAPPED);
  });

  it('checks nothing but the default map when disabled', () => {
    const mpu = new Mpu();
    mpu.program(0, { base: 0x2000_0000, size: 0x1000, ap: MpuAp.NO_ACCESS, enable: true });
    expect(mpu.permit(0x2000_0000, R | W | U)).toBe(OK);
    expect(mpu.permit(0x4000_0000, X | U)).toBe(PROT);
  });

  it('never checks the Private Peripheral Bus, which is privileged only, and never executes System space', () => {
    const mpu = freshMpu();
    mpu.program(0, { base: 0, size: 2 ** 32, ap: MpuAp.NO_ACCESS, enable: true });
    expect(mpu.regionAt(0xe000_ed00)).toBe(-1);
    expect(mpu.permit(0xe000_ed00, R | W)).toBe(OK);
    expect(mpu.permit(0xe000_ed00, R | U)).toBe(FaultCode.BAD_ADDRESS);
    expect(mpu.permit(0xe010_0000, R)).toBe(PROT);
    mpu.program(1, { base: 0xf000_0000, size: 0x1000_0000, ap: MpuAp.FULL_ACCESS, enable: true });
    expect(mpu.permit(0xf000_0000, R | U)).toBe(OK);
    expect(mpu.permit(0xf000_0000, X)).toBe(PROT);
  });

  it('answers BAD_ADDRESS for anything that is not a 32-bit address, without throwing', () => {
    const mpu = freshMpu();
    for (const va of [-1, 2 ** 32, 1.5, Number.NaN, Infinity]) expect(mpu.permit(va, R)).toBe(FaultCode.BAD_ADDRESS);
    expect(mpu.regionAt(Number.NaN)).toBe(-1);
  });

  it('checks against a given mask instead of the enable bits', () => {
    const mpu = freshMpu();
    mpu.program(2, { base: 0x2000_0000, size: 0x1000, ap: MpuAp.FULL_ACCESS });
    expect(mpu.enabledMask).toBe(0);
    expect(mpu.permit(0x2000_0000, R | U)).toBe(FaultCode.NOT_MAPPED);
    expect(mpu.permit(0x2000_0000, R | U, 0b100)).toBe(OK);
    // Bits of unprogrammed regions are ignored.
    expect(mpu.permit(0x2000_0000, R | U, 0xff)).toBe(OK);
  });
});

describe('Mpu programming', () => {
  it('reads back RBAR with the region number and RASR with the enable bit', () => {
    const mpu = freshMpu();
    mpu.program(3, { base: 0x2000_0000, size: 0x8_0000, ap: MpuAp.FULL_ACCESS, c: true, s: true });
    expect(mpu.rbar(3)).toBe(0x2000_0003);
    const rasr = encodeRasr({ size: 0x8_0000, ap: MpuAp.FULL_ACCESS, c: true, s: true });
    expect(mpu.rasr(3)).toBe(rasr);
    mpu.setEnabled(3, true);
    expect(mpu.rasr(3)).toBe(rasr | 1);
    expect(mpu.enabledMask).toBe(0b1000);
    expect(mpu.region(3)).toMatchObject({ base: 0x2000_0000, size: 0x8_0000, enable: true });
    mpu.setEnabledMask(0);
    expect(mpu.rasr(3)).toBe(rasr);
    mpu.clearRegion(3);
    expect(mpu.region(3)).toBeUndefined();
    expect(mpu.rasr(3)).toBe(0);
    mpu.check();
  });

  it('accepts RBAR with VALID naming the same region', () => {
    const mpu = freshMpu();
    mpu.setRegion(2, 0x2000_0012, encodeRasr({ size: 1024, ap: 3, enable: true }));
    expect(mpu.region(2)?.base).toBe(0x2000_0000);
    expectError('EINVAL', () => mpu.setRegion(2, 0x2000_0013, encodeRasr({ size: 1024, ap: 3 })));
    expectError('EINVAL', () => mpu.setRegion(2, 0x2000_0002, encodeRasr({ size: 1024, ap: 3 })));
  });

  it.each([
    ['a base not aligned to the size', () => freshMpu().program(0, { base: 0x2000_0200, size: 0x400, ap: 3 })],
    ['a base not aligned to 32', () => freshMpu().program(0, { base: 0x2000_0010, size: 0x20, ap: 3 })],
    ['a 4 GiB region not at 0', () => freshMpu().program(0, { base: 0x2000_0000, size: 2 ** 32, ap: 3 })],
    ['a size that is not a power of two', () => freshMpu().program(0, { base: 0x2000_0000, size: 0x600, ap: 3 })],
    ['a size below 32', () => freshMpu().program(0, { base: 0x2000_0000, size: 16, ap: 3 })],
    ['region number 8 on an 8-region MPU', () => freshMpu().program(8, { base: 0x2000_0000, size: 32, ap: 3 })],
    ['region number -1', () => freshMpu().program(-1, { base: 0x2000_0000, size: 32, ap: 3 })],
    ['the reserved AP 0b100', () => freshMpu().program(0, { base: 0x2000_0000, size: 32, ap: 4 })],
    ['subregions on a 64-byte region', () => freshMpu().program(0, { base: 0x2000_0000, size: 64, ap: 3, srd: 2 })],
    ['a region number 16 on a 16-region MPU', () => freshMpu(16).program(16, { base: 0, size: 32, ap: 3 })],
    ['enabling an unprogrammed region', () => freshMpu().setEnabled(4, true)],
    ['an enable mask naming unprogrammed regions', () => freshMpu().setEnabledMask(1)],
    ['an enable mask past the MPU', () => freshMpu().setEnabledMask(0x100)],
    ['CTRL reserved bits', () => freshMpu().setCtrl(8)],
    ['12 regions', () => new Mpu({ regions: 12 as 8 })],
  ])('refuses %s → EINVAL', (_name, f) => {
    expectError('EINVAL', f);
  });

  it('leaves the MPU unchanged when programming is refused', () => {
    const mpu = freshMpu();
    mpu.program(1, { base: 0x2000_0000, size: 0x400, ap: MpuAp.RO, enable: true });
    const before = [mpu.rbar(1), mpu.rasr(1), mpu.enabledMask, mpu.programmedMask];
    expectError('EINVAL', () => mpu.program(1, { base: 0x2000_0200, size: 0x400, ap: 3 }));
    expectError('EINVAL', () => mpu.setRegion(1, 0x2000_0000, 0x8000_0009));
    expect([mpu.rbar(1), mpu.rasr(1), mpu.enabledMask, mpu.programmedMask]).toEqual(before);
    mpu.check();
  });

  it('offers 16 regions where the part has them', () => {
    const mpu = freshMpu(16);
    mpu.program(15, { base: 0x2000_0000, size: 32, ap: MpuAp.RO, enable: true });
    mpu.program(0, { base: 0x2000_0000, size: 64, ap: MpuAp.FULL_ACCESS, enable: true });
    expect(mpu.regionCount).toBe(16);
    expect(mpu.regionAt(0x2000_0000)).toBe(15);
    expect(mpu.regionAt(0x2000_0020)).toBe(0);
    expect(mpu.rbar(15)).toBe(0x2000_000f);
    mpu.check();
  });
});
