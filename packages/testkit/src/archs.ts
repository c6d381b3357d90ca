import type { PmapFactory } from '@vmlayers/phys';
import { aarch64, armv7a, ia32, sv39 } from '@vmlayers/pmap-mmu';
import { armv7m, armv8m } from '@vmlayers/pmap-nommu';

/** One architecture under test, with the board its tests boot by default. */
export interface ArchUnderTest {
  /** The architecture's name (`arch.name`): `sv39`, `ia32`, `aarch64`, `armv7a`, `armv7m`, `armv8m`; what `describe.each(ARCHS)('… $name')` shows. */
  readonly name: string;
  /** The architecture itself. */
  readonly arch: PmapFactory;
  /** Its default board preset (`arch.defaultBoard`), for `boards.get`. */
  readonly board: string;
  /** True when it has an MMU (`arch.capabilities.hasMmu`): fork works, addresses are virtual. */
  readonly mmu: boolean;
}

function underTest(arch: PmapFactory): ArchUnderTest {
  return Object.freeze({ name: arch.name, arch, board: arch.defaultBoard, mmu: arch.capabilities.hasMmu });
}

/**
 * Every architecture the layers are tested on: RISC-V Sv39 on `riscv-virt-64m`, ia32 on `ia32-pc-32m` (both with
 * an MMU), ARMv7-M on `stm32-512k` and ARMv8-M on `cortex-m33-256k` (MPU only), AArch64 on `aarch64-virt-128m` and ARMv7-A
 * on `zynq7000-256m` (MMU). Tests run once per entry (`describe.each(ARCHS)`), so a layer is
 * proven on every architecture, and a new one is added here once.
 */
export const ARCHS: readonly ArchUnderTest[] = Object.freeze([
  underTest(sv39),
  underTest(ia32),
  underTest(armv7m),
  underTest(armv8m),
  // Last, so the index of every earlier entry stays what tests written before it picked by index expect.
  underTest(aarch64),
  underTest(armv7a),
]);
