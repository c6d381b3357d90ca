import { VmError } from './errors.js';
import { checkSize, checkUint, hex } from './validate.js';

/**
 * `ram`: memory the page allocator hands out. `reserved`: memory that exists but was taken before the VM
 * started (firmware, the kernel image, a device tree); it holds frames owned by `BOOT`, as the original's
 * syspage "reserved" entries do. `device`: an MMIO window served by handlers registered with
 * `PhysicalMemory.mapDevice`; it has no frames.
 */
export type RegionKind = 'ram' | 'reserved' | 'device';

/**
 * One range of a board's physical address space (the original's syspage memory map entry). `base` and `size` are
 * multiples of {@link REGION_ALIGN}, and the region ends below 2^53.
 */
export interface MemoryRegion {
  /** Physical address of the first byte, in bytes. */
  readonly base: number;
  /** Length in bytes, > 0. */
  readonly size: number;
  /** What lies there: allocatable RAM, RAM taken before boot, or a device window. */
  readonly kind: RegionKind;
  /** A label for reports and error messages (`dram`, `kernel`, `uart0`); need not be unique. */
  readonly name: string;
}

/**
 * A maximal run of address-contiguous `ram`/`reserved` regions: memory with frames behind it. Two banks never
 * touch, so a hole (or a device window) lies between any two; buddies never merge across one.
 */
export interface MemoryBank {
  /** Physical address of the first byte, a multiple of {@link REGION_ALIGN}. */
  readonly base: number;
  /** Length in bytes, > 0, a multiple of {@link REGION_ALIGN}. */
  readonly size: number;
}

/**
 * Regions must start and end on this boundary: the smallest page size of any supported architecture (armv7m's
 * 512 B), so every architecture's allocator can cut a board into whole frames or refuse it clearly.
 */
export const REGION_ALIGN = 512;

const KINDS: readonly RegionKind[] = ['ram', 'reserved', 'device'];

/**
 * A board's physical memory map: RAM banks, reserved ranges and device windows — what the original's loader
 * passes in the syspage. Validated on construction, immutable (frozen) afterwards. Carries no page size: that
 * belongs to the architecture.
 */
export class BoardMemoryMap {
  /** Frozen copies of the regions, sorted by base address, non-overlapping. */
  readonly regions: readonly MemoryRegion[];
  /** Maximal address-contiguous runs of `ram` and `reserved` regions, sorted. */
  readonly banks: readonly MemoryBank[];
  /** A display name: the preset's name, `ram-<size>` for `boards.ram`, or the constructor's `name`. */
  readonly name: string;

  /**
   * Copies, checks and sorts `regions`; `name` (default `custom`) is only for display. A region's missing `name`
   * becomes `region<i>`. Throws `VmError('EINVAL')`, naming the region, when `regions` is not a non-empty array, a
   * region is not an object, a `base` is not an integer in `[0, 2^53)`, a `size` not a positive one, a `kind` not
   * `ram`/`reserved`/`device`, a base or size is not a multiple of {@link REGION_ALIGN}, a region ends at or past 2^53,
   * two regions overlap, or no region is `ram`.
   */
  constructor(regions: readonly MemoryRegion[], name = 'custom') {
    if (!Array.isArray(regions) || regions.length === 0) {
      throw new VmError('EINVAL', 'regions must be a non-empty array of { base, size, kind, name }');
    }
    // Array.from, not map: a sparse array's holes are bad regions (map would skip them).
    const copy: MemoryRegion[] = Array.from(regions, (r, i) => {
      if (r === null || typeof r !== 'object') throw new VmError('EINVAL', `regions[${i}] must be an object`);
      checkUint(`regions[${i}].base`, r.base);
      checkSize(`regions[${i}].size`, r.size);
      if (!KINDS.includes(r.kind)) {
        throw new VmError('EINVAL', `regions[${i}].kind must be ram, reserved or device, got ${String(r.kind)}`);
      }
      if (r.base % REGION_ALIGN !== 0 || r.size % REGION_ALIGN !== 0) {
        throw new VmError(
          'EINVAL',
          `regions[${i}] (${String(r.name)}) base ${hex(r.base)} and size ${hex(r.size)} must be multiples of ${REGION_ALIGN}`,
        );
      }
      if (r.base + r.size > Number.MAX_SAFE_INTEGER) {
        throw new VmError('EINVAL', `regions[${i}] (${String(r.name)}) ends past 2^53`);
      }
      return Object.freeze({ base: r.base, size: r.size, kind: r.kind, name: String(r.name ?? `region${i}`) });
    });
    copy.sort((a, b) => a.base - b.base);
    for (let i = 1; i < copy.length; i++) {
      const a = copy[i - 1];
      const b = copy[i];
      if (a.base + a.size > b.base) {
        throw new VmError(
          'EINVAL',
          `regions ${a.name} [${hex(a.base)}, ${hex(a.base + a.size)}) and ${b.name} [${hex(b.base)}, ${hex(b.base + b.size)}) overlap`,
        );
      }
    }
    if (!copy.some((r) => r.kind === 'ram')) throw new VmError('EINVAL', 'a board needs at least one ram region');
    const banks: MemoryBank[] = [];
    for (const r of copy) {
      if (r.kind === 'device') continue;
      const last = banks[banks.length - 1];
      if (last && last.base + last.size === r.base) banks[banks.length - 1] = { base: last.base, size: last.size + r.size };
      else banks.push({ base: r.base, size: r.size });
    }
    this.regions = Object.freeze(copy);
    this.banks = Object.freeze(banks.map((b) => Object.freeze(b)));
    this.name = name;
  }

  /** Bytes of `ram` regions (`reserved` and `device` not counted): what the page allocator can hand out. */
  get ramSize(): number {
    return this.regions.reduce((s, r) => (r.kind === 'ram' ? s + r.size : s), 0);
  }

  /**
   * The region containing physical address `pa` (`base ≤ pa < base + size`), or undefined when `pa` falls in no
   * region (a hole, below the first region or past the last). Linear in the number of regions.
   */
  regionAt(pa: number): MemoryRegion | undefined {
    for (const r of this.regions) if (pa >= r.base && pa < r.base + r.size) return r;
    return undefined;
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// QEMU's `virt` machine: firmware (OpenSBI) at the bottom of DRAM, the kernel image loaded after it.
function riscvVirt(ramSize: number): MemoryRegion[] {
  return [
    { base: 0x0200_0000, size: 0x1_0000, kind: 'device', name: 'clint' },
    { base: 0x0c00_0000, size: 0x60_0000, kind: 'device', name: 'plic' },
    { base: 0x1000_0000, size: 0x1000, kind: 'device', name: 'uart0' },
    { base: 0x8000_0000, size: 2 * MiB, kind: 'reserved', name: 'opensbi' },
    { base: 0x8020_0000, size: 1 * MiB, kind: 'reserved', name: 'kernel' },
    { base: 0x8030_0000, size: ramSize - 3 * MiB, kind: 'ram', name: 'dram' },
  ];
}

const PRESETS: Readonly<Record<string, () => MemoryRegion[]>> = {
  'riscv-virt-64m': () => riscvVirt(64 * MiB),
  'riscv-virt-4g': () => riscvVirt(4 * GiB),
  // A PC: real-mode data, conventional memory, the VGA hole and BIOS ROM below 1 MiB, the kernel at 1 MiB.
  'ia32-pc-32m': () => [
    { base: 0x0, size: 0x1000, kind: 'reserved', name: 'ivt+bda' },
    { base: 0x1000, size: 0x9e000, kind: 'ram', name: 'conventional' },
    { base: 0x9f000, size: 0x1000, kind: 'reserved', name: 'ebda' },
    { base: 0xa0000, size: 0x20000, kind: 'device', name: 'vga' },
    { base: 0xc0000, size: 0x40000, kind: 'reserved', name: 'bios-rom' },
    { base: 0x10_0000, size: 1 * MiB, kind: 'reserved', name: 'kernel' },
    { base: 0x20_0000, size: 30 * MiB, kind: 'ram', name: 'extended' },
  ],
  // A Cortex-M part with 512 KiB of SRAM: flash holds the kernel and program images (boot-owned), peripherals
  // sit in the architecture's fixed device window.
  'stm32-512k': () => [
    { base: 0x0800_0000, size: 1 * MiB, kind: 'reserved', name: 'flash' },
    { base: 0x2000_0000, size: 512 * KiB, kind: 'ram', name: 'sram' },
    { base: 0x4000_0000, size: 0x2000_0000, kind: 'device', name: 'peripherals' },
  ],
  // A Cortex-M33 (ARMv8-M) part laid out as STM32L5: 1 MiB flash, 256 KiB SRAM in two banks of 192 and 64 KiB
  // (SRAM1 is not a power of two: one PMSAv8 region covers it, where PMSAv7 needs two).
  'cortex-m33-256k': () => [
    { base: 0x0800_0000, size: 1 * MiB, kind: 'reserved', name: 'flash' },
    { base: 0x2000_0000, size: 192 * KiB, kind: 'ram', name: 'sram1' },
    { base: 0x2003_0000, size: 64 * KiB, kind: 'ram', name: 'sram2' },
    { base: 0x4000_0000, size: 0x2000_0000, kind: 'device', name: 'peripherals' },
  ],
  // QEMU's `virt` machine for AArch64 at its default 128 MiB: flash (a window here: a kernel booted with `-kernel`
  // runs no firmware from it), the GIC, PL011 UART, PL031 RTC and virtio-mmio windows below 1 GiB, DRAM from
  // 0x4000_0000. With `-kernel`, QEMU puts the device tree at the base of DRAM and
  // the kernel image 2 MiB above it (the arm64 boot protocol's 2 MiB-aligned load address): both boot-owned.
  'aarch64-virt-128m': () => [
    { base: 0x0000_0000, size: 0x0800_0000, kind: 'device', name: 'flash' },
    { base: 0x0800_0000, size: 0x2_0000, kind: 'device', name: 'gic' },
    { base: 0x0900_0000, size: 0x1000, kind: 'device', name: 'uart0' },
    { base: 0x0901_0000, size: 0x1000, kind: 'device', name: 'rtc' },
    { base: 0x0a00_0000, size: 0x4000, kind: 'device', name: 'virtio-mmio' },
    { base: 0x4000_0000, size: 2 * MiB, kind: 'reserved', name: 'dtb' },
    { base: 0x4020_0000, size: 2 * MiB, kind: 'reserved', name: 'kernel' },
    { base: 0x4040_0000, size: 124 * MiB, kind: 'ram', name: 'dram' },
  ],
  // A Zynq-7000 (dual Cortex-A9) board with 256 MiB of DDR at 0: the first MiB is shadowed by the on-chip memory
  // at boot and the original starts DDR above it (ADDR_DDR 0x0010_0000); its first 4 MiB are the kernel area
  // (image, page tables, stack). Peripherals: UART0/1, the SLCR, the MPCore private region (SCU, GIC, timers),
  // the QSPI flash window; the 256 KiB of on-chip memory at the top, used by the boot loader.
  'zynq7000-256m': () => [
    { base: 0x0000_0000, size: 1 * MiB, kind: 'reserved', name: 'ddr-low' },
    { base: 0x0010_0000, size: 4 * MiB, kind: 'reserved', name: 'kernel' },
    { base: 0x0050_0000, size: 251 * MiB, kind: 'ram', name: 'ddr' },
    { base: 0xe000_0000, size: 0x2000, kind: 'device', name: 'uart' },
    { base: 0xf800_0000, size: 0x1000, kind: 'device', name: 'slcr' },
    { base: 0xf8f0_0000, size: 0x2000, kind: 'device', name: 'mpcore' },
    { base: 0xfc00_0000, size: 32 * MiB, kind: 'device', name: 'qspi-flash' },
    { base: 0xfffc_0000, size: 256 * KiB, kind: 'reserved', name: 'ocm' },
  ],
};

/** Board presets (a few real machines' memory maps) and single-bank boards for tests. */
export const boards = {
  /** The preset names `get` accepts, in a fixed order; a new array each call. */
  names(): string[] {
    return Object.keys(PRESETS);
  },
  /**
   * A new map of the preset `name`: `riscv-virt-64m` and `riscv-virt-4g` (QEMU `virt`: CLINT, PLIC and UART
   * windows, DRAM at 0x8000_0000 whose first 3 MiB are OpenSBI and the kernel, reserved), `ia32-pc-32m` (a PC:
   * reserved real-mode data, BIOS ROM and the kernel at 1 MiB, the VGA window, conventional and extended RAM),
   * `stm32-512k` (a Cortex-M part: 1 MiB reserved flash at 0x0800_0000, 512 KiB SRAM at 0x2000_0000, the peripheral
   * window at 0x4000_0000), `cortex-m33-256k` (a Cortex-M33 part: 1 MiB reserved flash at 0x0800_0000, SRAM1 of
   * 192 KiB at 0x2000_0000 and SRAM2 of 64 KiB right after it, the peripheral window), `aarch64-virt-128m` (QEMU
   * `virt` for AArch64 at its default 128 MiB: a flash window at 0, GIC, UART, RTC and virtio-mmio windows, DRAM at
   * 0x4000_0000 whose first 4 MiB are the device tree and the kernel, reserved), `zynq7000-256m` (a Zynq-7000 Cortex-A9
   * board: 256 MiB of DDR at 0 whose first 5 MiB are reserved — the OCM-shadowed first MiB and the kernel area —,
   * UART, SLCR, MPCore and QSPI windows, 256 KiB of reserved on-chip memory at 0xFFFC_0000). A name that is not a string → `VmError('EINVAL')`; an unknown one → `VmError('ENOENT')`.
   */
  get(name: string): BoardMemoryMap {
    if (typeof name !== 'string') throw new VmError('EINVAL', `name must be a preset name (a string), got ${hex(name)}`);
    const make = Object.prototype.hasOwnProperty.call(PRESETS, name) ? PRESETS[name] : undefined;
    if (!make) throw new VmError('ENOENT', `board ${String(name)} is not a preset (${Object.keys(PRESETS).join(', ')})`);
    return new BoardMemoryMap(make(), name);
  },
  /**
   * A board of one `ram` region of `size` bytes at physical address `base` (default 0), named `ram-<size>`. Both
   * must be multiples of {@link REGION_ALIGN}, `size` > 0 and the end below 2^53; otherwise `VmError('EINVAL')`.
   */
  ram(size: number, base = 0): BoardMemoryMap {
    checkSize('size', size);
    checkUint('base', base);
    return new BoardMemoryMap([{ base, size, kind: 'ram', name: 'ram' }], `ram-${size}`);
  },
};
