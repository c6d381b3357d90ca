import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, FaultCode, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { Armv7mFactory, MpuAp, armv7m, createArmv7m, encodeRasr } from '../src/index.js';
import type { MpuPmap } from '../src/index.js';
import { R, U, W, X, expectError } from './support.js';

const KiB = 1024;

const FLASH = 0x0800_0000;
const SRAM = 0x2000_0000;
const PERIPH = 0x4000_0000;


function boot(arch: Armv7mFactory = armv7m, board: BoardMemoryMap = boards.get(arch.defaultBoard)) {
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: arch.pageSize });
  const kernel = arch.createKernel(mem, alloc, board);
  return { board, mem, alloc, kernel };
}

describe('armv7m factory', () => {
  it('describes one flat, identity-mapped 32-bit space with 512-byte pages', () => {
    expect(armv7m.name).toBe('armv7m');
    expect(armv7m.pageSize).toBe(512);
    expect(armv7m.defaultBoard).toBe('stm32-512k');
    expect(armv7m.capabilities).toEqual({ hasMmu: false, execProtect: true, supervisorReadsUser: true, sharedKernelHalf: true, accessedDirty: false });
    expect(armv7m.userRange).toEqual([0, 2 ** 32]);
    expect(armv7m.kernelRange).toEqual([0, 2 ** 32]);
    expect(armv7m.regionCount).toBe(8);
    expect(createArmv7m({ regions: 16 }).regionCount).toBe(16);
    expect(Object.isFrozen(armv7m.capabilities)).toBe(true);
  });

  it('boots as the original: regions programmed disabled, PRIVDEFENA, kernel code region enabled', () => {
    const { kernel, alloc } = boot();
    const before = alloc.info();
    const mpu = kernel.mpu;
    expect(mpu.ctrl).toBe(0b101);
    expect(mpu.programmedMask).toBe(0b111);
    expect(kernel.regionMask).toBe(0b001);
    expect(mpu.enabledMask).toBe(0b001);
    expect(kernel.isActive).toBe(true);
    expect(mpu.rbar(1)).toBe(SRAM | 1);
    expect(mpu.rasr(1)).toBe(encodeRasr({ size: 512 * KiB, ap: MpuAp.FULL_ACCESS, s: true, c: true }));
    expect(kernel.stats()).toEqual({ tableFrames: 0, tlbHits: 0, tlbMisses: 0, tlbFlushes: 0, walks: 0 });
    expect(alloc.info()).toEqual(before);
    kernel.check();
  });

  it('refuses boards it cannot cover, unknown maps in its options and allocators with another page size', () => {
    const board = boards.get('ia32-pc-32m');
    const mem = new PhysicalMemory(board);
    expectError('EINVAL', () => armv7m.createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), board));
    const stm = boards.get('stm32-512k');
    const smem = new PhysicalMemory(stm);
    expectError('EINVAL', () => armv7m.createKernel(smem, new PageAllocator(smem, { pageSize: 4096 }), stm));
    expectError('EINVAL', () => createArmv7m({ userMaps: ['nope'] }).createKernel(smem, new PageAllocator(smem, { pageSize: 512 }), stm));
    expectError('EINVAL', () => createArmv7m({ kernelCodeMap: 'nope' }).createKernel(smem, new PageAllocator(smem, { pageSize: 512 }), stm));
    expectError('EINVAL', () => createArmv7m({ regions: 32 as 8 }));
    expectError('EINVAL', () => armv7m.createUser({} as MpuPmap));
    const { kernel } = boot();
    const user = armv7m.createUser(kernel);
    expectError('EINVAL', () => armv7m.createUser(user));
    kernel.destroy();
    expectError('EINVAL', () => armv7m.createUser(kernel));
  });
});

describe('armv7m translate', () => {
  it('is the identity for RAM in supervisor mode, for every address space', () => {
    const { kernel } = boot();
    const user = armv7m.createUser(kernel);
    for (const p of [kernel, user]) {
      for (const va of [SRAM, SRAM + 0x1234, SRAM + 512 * KiB - 1]) {
        expect(p.translate(va, R)).toBe(va);
        expect(p.translate(va, W)).toBe(va);
        expect(p.resolve(va)).toBe(va);
      }
    }
  });

  it('gives a user address space the kernel code (read/execute) and RAM (read/write/execute), nothing else', () => {
    const { kernel } = boot();
    const user = armv7m.createUser(kernel);
    expect(user.regionMask).toBe(0b011);
    expect(user.isActive).toBe(false);
    user.activate();
    expect(kernel.mpu.enabledMask).toBe(0b011);
    expect(user.translate(FLASH + 0x200, R | U)).toBe(FLASH + 0x200);
    expect(user.translate(FLASH + 0x200, X | U)).toBe(FLASH + 0x200);
    expect(user.translate(FLASH + 0x200, W | U)).toBe(FaultCode.PROTECTION);
    expect(user.translate(FLASH + 0x200, W)).toBe(FaultCode.PROTECTION); // flash is read-only for everyone
    expect(user.translate(SRAM + 0x800, W | U)).toBe(SRAM + 0x800);
    expect(user.translate(SRAM + 0x800, X | U)).toBe(SRAM + 0x800);
    expect(user.translate(PERIPH + 0x1_0000, R | U)).toBe(FaultCode.NOT_MAPPED);
    expect(user.translate(PERIPH + 0x1_0000, R | W)).toBe(PERIPH + 0x1_0000); // privileged: default map
    expect(user.translate(PERIPH + 0x1_0000, X)).toBe(FaultCode.PROTECTION); // default map: Peripheral is XN
    user.addMap('peripherals');
    expect(user.translate(PERIPH + 0x1_0000, W | U)).toBe(PERIPH + 0x1_0000);
    expect(user.translate(PERIPH + 0x1_0000, X | U)).toBe(FaultCode.PROTECTION); // device region is XN
  });

  it('answers BAD_ADDRESS where the MPU allows an access but no board map answers (a BusFault)', () => {
    const { kernel } = boot();
    expect(kernel.translate(0x1000_0000, R)).toBe(FaultCode.BAD_ADDRESS);
    expect(kernel.translate(SRAM + 512 * KiB, R)).toBe(FaultCode.BAD_ADDRESS);
    expect(kernel.translate(0xe000_ed00, R)).toBe(FaultCode.BAD_ADDRESS);
    expect(kernel.resolve(0x1000_0000)).toBe(-1);
    expect(kernel.resolve(SRAM + 512 * KiB)).toBe(-1);
  });

});

describe('armv7m isolation', () => {
  it('revokes a map at once from the loaded address space, never the kernel code', () => {
    const { kernel } = boot();
    const user = armv7m.createUser(kernel);
    user.activate();
    expect(user.translate(SRAM, R | U)).toBe(SRAM);
    expect(user.removeMap('sram')).toBe(0b010);
    expect(kernel.mpu.enabledMask).toBe(0b001);
    expect(user.translate(SRAM, R | U)).toBe(FaultCode.NOT_MAPPED);
    expectError('EPERM', () => user.removeMap('flash'));
    expectError('EPERM', () => user.removeRegion(0));
    expectError('ENOENT', () => user.addMap('nope'));
    expectError('EINVAL', () => user.addRegion(8));
    expect(user.addMap(boards.get('stm32-512k').regions[1])).toBe(0b010);
    expect(user.translate(SRAM, R | U)).toBe(SRAM);
    user.check();
  });

  it('honours a region programmed at run time in a free slot once the address space holds it', () => {
    const { kernel } = boot();
    const user = armv7m.createUser(kernel);
    user.activate();
    // A 512-byte no-access guard at the bottom of a stack, outranking the SRAM region (higher slot).
    kernel.mpu.program(5, { base: SRAM + 0x1000, size: 512, ap: MpuAp.NO_ACCESS, xn: true });
    expect(user.translate(SRAM + 0x1000, R | U)).toBe(SRAM + 0x1000);
    user.addRegion(5);
    expect(kernel.mpu.enabledMask).toBe(0b10_0011);
    expect(user.translate(SRAM + 0x1000, R | U)).toBe(FaultCode.PROTECTION);
    expect(user.translate(SRAM + 0x1000, R)).toBe(FaultCode.PROTECTION);
    expect(user.translate(SRAM + 0x1200, W | U)).toBe(SRAM + 0x1200);
    expect(user.tables().map((t) => t.pa)).toEqual([FLASH, SRAM, SRAM + 0x1000]);
    user.removeRegion(5);
    expect(user.translate(SRAM + 0x1000, R | U)).toBe(SRAM + 0x1000);
  });

  it('has every address space fault unprivileged accesses outside its regions without PRIVDEFENA for privileged ones too', () => {
    const { kernel } = boot(createArmv7m({ privDefault: false }));
    expect(kernel.mpu.ctrl).toBe(0b001);
    expect(kernel.translate(SRAM, R)).toBe(FaultCode.NOT_MAPPED);
    expect(kernel.translate(FLASH, R)).toBe(FLASH);
  });
});

describe('armv7m enter / remove / protect / tables / destroy', () => {
  it('reports the regions it holds as level-0 tables with the bytes they cover', () => {
    const { kernel } = boot();
    const user = armv7m.createUser(kernel);
    // span: one entry is a subregion, size / 8
    expect(kernel.tables()).toEqual([{ level: 0, pa: FLASH, va: FLASH, entries: 1024 * KiB, span: 128 * KiB }]);
    expect(user.tables()).toEqual([
      { level: 0, pa: FLASH, va: FLASH, entries: 1024 * KiB, span: 128 * KiB },
      { level: 0, pa: SRAM, va: SRAM, entries: 512 * KiB, span: 64 * KiB },
    ]);
    // 384 KiB: a 512 KiB region with its top two subregions disabled
    const board = new BoardMemoryMap([{ base: SRAM, size: 384 * KiB, kind: 'ram', name: 'sram' }]);
    const { kernel: k2 } = boot(armv7m, board);
    expect(armv7m.createUser(k2).tables()).toEqual([{ level: 0, pa: SRAM, va: SRAM, entries: 384 * KiB, span: 64 * KiB }]);
    // a region below 256 B has no subregions: an entry is the whole region
    user.activate();
    kernel.mpu.program(6, { base: SRAM + 0x1000, size: 128, ap: MpuAp.NO_ACCESS });
    user.addRegion(6);
    expect(user.tables()[2]).toEqual({ level: 0, pa: SRAM + 0x1000, va: SRAM + 0x1000, entries: 128, span: 128 });
  });

  it('counts verdict-cache hits, misses and flushes, and region scans as walks', () => {
    const { kernel } = boot();
    kernel.translate(SRAM, R);
    expect(kernel.stats()).toEqual({ tableFrames: 0, tlbHits: 0, tlbMisses: 1, tlbFlushes: 1, walks: 1 });
    kernel.translate(SRAM + 4, W);
    kernel.translate(SRAM + 511, R);
    expect(kernel.stats()).toMatchObject({ tlbHits: 2, tlbMisses: 1 });
    kernel.translate(SRAM + 512, R);
    expect(kernel.stats()).toMatchObject({ tlbHits: 2, tlbMisses: 2, walks: 2 });
    // A fault takes the region scan for its code: one refill and one scan.
    expect(kernel.translate(0, R)).toBe(FaultCode.BAD_ADDRESS);
    expect(kernel.stats()).toMatchObject({ tlbMisses: 3, walks: 4 });
    kernel.addMap('sram');
    kernel.translate(SRAM, R);
    expect(kernel.stats()).toMatchObject({ tlbFlushes: 2, tlbMisses: 4 });
  });

});
