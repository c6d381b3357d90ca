import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, FaultCode, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import {
  ARMV8M_DEFAULT_MAIR,
  Armv8mAp,
  Armv8mAttr,
  Armv8mFactory,
  Armv8mSh,
  armv7m,
  armv8m,
  computeArmv8mRegions,
  createArmv8m,
} from '../src/index.js';
import { R, U, W, X, expectError } from './support.js';

const KiB = 1024;

const FLASH = 0x0800_0000;
const SRAM1 = 0x2000_0000;
const SRAM2 = 0x2003_0000;
const PERIPH = 0x4000_0000;

function boot(arch: Armv8mFactory = armv8m, board: BoardMemoryMap = boards.get(arch.defaultBoard)) {
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: arch.pageSize });
  const kernel = arch.createKernel(mem, alloc, board);
  return { board, mem, alloc, kernel };
}

describe('armv8m factory', () => {
  it('describes one flat, identity-mapped 32-bit space with 512-byte pages and a 16-region MPU', () => {
    expect(armv8m.name).toBe('armv8m');
    expect(armv8m.pageSize).toBe(512);
    expect(armv8m.defaultBoard).toBe('cortex-m33-256k');
    expect(armv8m.capabilities).toEqual({ hasMmu: false, execProtect: true, supervisorReadsUser: true, sharedKernelHalf: true, accessedDirty: false });
    expect(armv8m.userRange).toEqual([0, 2 ** 32]);
    expect(armv8m.kernelRange).toEqual([0, 2 ** 32]);
    expect(armv8m.regionCount).toBe(16);
    expect(createArmv8m({ regions: 8 }).regionCount).toBe(8);
    expect(Object.isFrozen(armv8m.capabilities)).toBe(true);
  });

  it('cuts the board into one base/limit region per map, with the MAIR attribute of its kind', () => {
    const layout = armv8m.plan(boards.get('cortex-m33-256k'));
    expect(layout.regions).toEqual([
      { slot: 0, map: 'flash', kind: 'reserved', base: FLASH, limit: FLASH + 1024 * KiB - 1, ap: Armv8mAp.RO, xn: false, sh: 0, attrIndx: Armv8mAttr.NORMAL_WT },
      { slot: 1, map: 'sram1', kind: 'ram', base: SRAM1, limit: SRAM1 + 192 * KiB - 1, ap: Armv8mAp.RW, xn: false, sh: 0, attrIndx: Armv8mAttr.NORMAL_WB },
      { slot: 2, map: 'sram2', kind: 'ram', base: SRAM2, limit: SRAM2 + 64 * KiB - 1, ap: Armv8mAp.RW, xn: false, sh: 0, attrIndx: Armv8mAttr.NORMAL_WB },
      { slot: 3, map: 'peripherals', kind: 'device', base: PERIPH, limit: 0x5fff_ffff, ap: Armv8mAp.RW, xn: true, sh: 0, attrIndx: Armv8mAttr.DEVICE },
    ]);
    expect([...layout.maps]).toEqual([['flash', 0b1], ['sram1', 0b10], ['sram2', 0b100], ['peripherals', 0b1000]]);
    expect(layout.mair).toEqual([0x0004_aaff, 0]);
    // Boards PMSAv7 cannot cover in 8 regions fit: ia32-pc-32m has 7 maps.
    expect(createArmv8m({ regions: 8 }).plan(boards.get('ia32-pc-32m')).regions).toHaveLength(7);
    expectError('EINVAL', () => armv8m.plan(boards.get('riscv-virt-4g')), /beyond the 32-bit address space of armv8m/);
    const nine = new BoardMemoryMap(Array.from({ length: 9 }, (_, i) => ({ base: SRAM1 + i * 0x1000, size: 0x200, kind: 'ram' as const, name: `m${i}` })));
    expectError('EINVAL', () => createArmv8m({ regions: 8 }).plan(nine), /cannot be covered by 8 MPU regions: map m8 does not fit/);
    expect(armv8m.plan(nine).regions).toHaveLength(9);
  });

  it('boots as the original: MAIRs, regions programmed disabled, PRIVDEFENA, kernel code region enabled', () => {
    const { kernel, alloc } = boot();
    const before = alloc.info();
    const mpu = kernel.mpu;
    expect(mpu.ctrl).toBe(0b101);
    expect([mpu.mair(0), mpu.mair(1)]).toEqual([...ARMV8M_DEFAULT_MAIR]);
    expect(mpu.programmedMask).toBe(0b1111);
    expect(kernel.regionMask).toBe(0b0001);
    expect(mpu.enabledMask).toBe(0b0001);
    expect(kernel.isActive).toBe(true);
    // RBAR BASE | SH | AP | XN, RLAR LIMIT | AttrIndx | EN, from the manual's bit positions.
    expect(mpu.rbar(1)).toBe(SRAM1 | (0b01 << 1));
    expect(mpu.rlar(1)).toBe(((SRAM1 + 192 * KiB - 32) | (0 << 1)) >>> 0);
    expect(mpu.rbar(3)).toBe(PERIPH | (0b01 << 1) | 1);
    expect(mpu.rlar(3)).toBe((0x5fff_ffe0 | (2 << 1)) >>> 0);
    expect(mpu.rlar(0)).toBe((FLASH + 1024 * KiB - 32) | (1 << 1) | 1);
    expect(kernel.stats()).toEqual({ tableFrames: 0, tlbHits: 0, tlbMisses: 0, tlbFlushes: 0, walks: 0 });
    expect(alloc.info()).toEqual(before);
    kernel.check();
  });

  it('refuses bad options, boards it cannot cover, foreign kernels and allocators with another page size', () => {
    const board = boards.get('cortex-m33-256k');
    const mem = new PhysicalMemory(board);
    expectError('EINVAL', () => armv8m.createKernel(mem, new PageAllocator(mem, { pageSize: 4096 }), board), /alloc.pageSize must be 512 for armv8m/);
    expectError('EINVAL', () => createArmv8m({ userMaps: ['nope'] }).createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), board));
    expectError('EINVAL', () => createArmv8m({ kernelCodeMap: 'nope' }).createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), board));
    expectError('EINVAL', () => createArmv8m({ mair: [0x01, 0] }).createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), board));
    expectError('EINVAL', () => createArmv8m({ attributes: () => ({ ap: 1, xn: false, sh: Armv8mSh.INNER - 2, attrIndx: 0 }) }).plan(board));
    expectError('EINVAL', () => createArmv8m({ attributes: () => ({ ap: 4, xn: false, sh: 0, attrIndx: 0 }) }).plan(board));
    expectError('EINVAL', () => createArmv8m({ regions: 12 as 8 }));
    expectError('EINVAL', () => createArmv8m(null as never));
    const { kernel } = boot();
    const user = armv8m.createUser(kernel);
    expectError('EINVAL', () => armv8m.createUser(user));
    // An armv7m kernel is not an armv8m one, nor the reverse.
    const stm = boards.get('stm32-512k');
    const smem = new PhysicalMemory(stm);
    const v7 = armv7m.createKernel(smem, new PageAllocator(smem, { pageSize: 512 }), stm);
    expectError('EINVAL', () => armv8m.createUser(v7));
    expectError('EINVAL', () => armv7m.createUser(kernel));
    kernel.destroy();
    expectError('EINVAL', () => armv8m.createUser(kernel));
  });

  it('honours attributes and MAIR options: a device map with a Normal attribute becomes executable', () => {
    const arch = createArmv8m({
      mair: [0x0044_aaff, 0],
      attributes: (r) => ({ ap: Armv8mAp.RW, xn: false, sh: Armv8mSh.INNER, attrIndx: r.kind === 'device' ? 2 : 0 }),
    });
    const { kernel } = boot(arch);
    expect(kernel.mpu.attribute(2)).toEqual({ type: 'normal', outer: 4, inner: 4 });
    kernel.addMap('peripherals');
    expect(kernel.translate(PERIPH, X)).toBe(PERIPH);
    expect(kernel.mpu.region(3)).toMatchObject({ sh: Armv8mSh.INNER, xn: false });
  });
});

describe('armv8m translate', () => {
  it('gives a user address space the kernel code (read/execute) and both SRAM maps, nothing else', () => {
    const { kernel } = boot();
    const user = armv8m.createUser(kernel);
    expect(user.regionMask).toBe(0b0111);
    user.activate();
    expect(kernel.mpu.enabledMask).toBe(0b0111);
    expect(user.translate(FLASH + 0x200, R | U)).toBe(FLASH + 0x200);
    expect(user.translate(FLASH + 0x200, X | U)).toBe(FLASH + 0x200);
    expect(user.translate(FLASH + 0x200, W | U)).toBe(FaultCode.PROTECTION);
    expect(user.translate(FLASH + 0x200, W)).toBe(FaultCode.PROTECTION);
    for (const va of [SRAM1, SRAM1 + 192 * KiB - 4, SRAM2, SRAM2 + 64 * KiB - 4]) {
      expect(user.translate(va, W | U)).toBe(va);
      expect(user.translate(va, X | U)).toBe(va);
    }
    expect(user.translate(PERIPH + 0x1_0000, R | U)).toBe(FaultCode.NOT_MAPPED);
    expect(user.translate(PERIPH + 0x1_0000, R | W)).toBe(PERIPH + 0x1_0000); // privileged: default map
    user.addMap('peripherals');
    expect(user.translate(PERIPH + 0x1_0000, W | U)).toBe(PERIPH + 0x1_0000);
    expect(user.translate(PERIPH + 0x1_0000, X)).toBe(FaultCode.PROTECTION); // XN and Device memory
    // A BusFault where the MPU allows but nothing answers: past SRAM2, the PPB from privileged code.
    expect(kernel.translate(SRAM2 + 64 * KiB, R)).toBe(FaultCode.BAD_ADDRESS);
    expect(kernel.translate(0xe000_ed00, R)).toBe(FaultCode.BAD_ADDRESS);
  });

  it('faults an access where a region programmed at run time overlaps a loader region (no priority on ARMv8-M)', () => {
    const { kernel } = boot();
    const user = armv8m.createUser(kernel);
    user.activate();
    // A 96-byte no-access guard inside SRAM1: on ARMv7-M it would outrank SRAM1; here the overlap itself faults.
    kernel.mpu.program(9, { base: SRAM1 + 0x1000, limit: SRAM1 + 0x105f, ap: Armv8mAp.PRIV_RO, xn: true });
    user.addRegion(9);
    expect(kernel.mpu.enabledMask).toBe(0b10_0000_0111);
    for (const access of [R, W, X, R | U, W | U]) {
      expect(user.translate(SRAM1 + 0x1000, access)).toBe(FaultCode.PROTECTION);
      expect(user.translate(SRAM1 + 0x105f, access)).toBe(FaultCode.PROTECTION);
    }
    expect(user.translate(SRAM1 + 0x1060, W | U)).toBe(SRAM1 + 0x1060);
    expect(user.translate(SRAM1 + 0xfff, W | U)).toBe(SRAM1 + 0xfff);
    // The way to a guard on PMSAv8: take the bank out and map around the guard.
    user.removeMap('sram1');
    expect(user.translate(SRAM1 + 0x1000, R)).toBe(SRAM1 + 0x1000);
    expect(user.translate(SRAM1 + 0x1000, W)).toBe(FaultCode.PROTECTION);
    expect(user.translate(SRAM1 + 0x1000, R | U)).toBe(FaultCode.PROTECTION);
    expect(user.tables().map((t) => [t.pa, t.entries])).toEqual([
      [FLASH, 1024 * KiB],
      [SRAM2, 64 * KiB],
      [SRAM1 + 0x1000, 0x60],
    ]);
    user.check();
  });

});

describe('armv8m isolation', () => {
  it('faults privileged accesses outside every region too without PRIVDEFENA', () => {
    const { kernel } = boot(createArmv8m({ privDefault: false }));
    expect(kernel.mpu.ctrl).toBe(0b001);
    expect(kernel.translate(SRAM1, R)).toBe(FaultCode.NOT_MAPPED);
    expect(kernel.translate(FLASH, R)).toBe(FLASH);
  });
});

describe('armv8m enter / remove / protect / tables / destroy', () => {
  it('says ENOSYS for accessed/dirty bits and names armv8m', () => {
    const { kernel } = boot();
    expectError('ENOSYS', () => kernel.referenced(SRAM1), /armv8m has no MMU/);
    expectError('ENOSYS', () => kernel.dirty(SRAM1, true), /armv8m has no MMU/);
  });

  it('catches a loader slot reprogrammed or its MAIR attribute rewritten in check()', () => {
    const { kernel } = boot();
    kernel.check();
    kernel.mpu.program(1, { base: SRAM1, limit: SRAM1 + 0x7fff, ap: Armv8mAp.RW });
    expect(() => kernel.check()).toThrow(/slot 1 no longer holds the region of map sram1/);
    const again = boot().kernel;
    again.mpu.setMair(0, (ARMV8M_DEFAULT_MAIR[0] & ~0xff) | 0x44);
    expect(() => again.check()).toThrow(/slot 1 no longer holds/);
  });

});

describe('computeArmv8mRegions', () => {
  it('is what the factory plans, and refuses a MAIR pair that is not two words', () => {
    const board = boards.get('cortex-m33-256k');
    expect(computeArmv8mRegions(board)).toEqual(armv8m.plan(board));
    expectError('EINVAL', () => computeArmv8mRegions(board, { mair: [0] as never }));
    expectError('EINVAL', () => computeArmv8mRegions(board, { regions: 4 as 8 }));
  });
});
