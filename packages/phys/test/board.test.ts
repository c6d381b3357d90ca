import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, boards } from '../src/index.js';
import type { MemoryRegion } from '../src/index.js';
import { code } from './support.js';

const MiB = 1024 * 1024;

describe('boards', () => {
  it('has the seven presets', () => {
    expect(boards.names()).toEqual([
      'riscv-virt-64m',
      'riscv-virt-4g',
      'ia32-pc-32m',
      'stm32-512k',
      'cortex-m33-256k',
      'aarch64-virt-128m',
      'zynq7000-256m',
    ]);
  });

  it.each([
    ['riscv-virt-64m', 64 * MiB - 3 * MiB, [{ base: 0x8000_0000, size: 64 * MiB }]],
    ['riscv-virt-4g', 4096 * MiB - 3 * MiB, [{ base: 0x8000_0000, size: 4096 * MiB }]],
    [
      'ia32-pc-32m',
      0x9e000 + 30 * MiB,
      [
        { base: 0, size: 0xa0000 },
        { base: 0xc0000, size: 32 * MiB - 0xc0000 },
      ],
    ],
    [
      'stm32-512k',
      512 * 1024,
      [
        { base: 0x0800_0000, size: MiB },
        { base: 0x2000_0000, size: 512 * 1024 },
      ],
    ],
    [
      // SRAM1 and SRAM2 are two maps but one bank: they touch.
      'cortex-m33-256k',
      256 * 1024,
      [
        { base: 0x0800_0000, size: MiB },
        { base: 0x2000_0000, size: 256 * 1024 },
      ],
    ],
    [
      // Flash is a device window; DRAM is one bank from 0x4000_0000, its first 4 MiB reserved.
      'aarch64-virt-128m',
      124 * MiB,
      [{ base: 0x4000_0000, size: 128 * MiB }],
    ],
    [
      // DDR is one bank from 0 (the reserved first 5 MiB included); the on-chip memory at the top is another.
      'zynq7000-256m',
      251 * MiB,
      [
        { base: 0, size: 256 * MiB },
        { base: 0xfffc_0000, size: 256 * 1024 },
      ],
    ],
  ])('%s: RAM size and banks', (name, ram, banks) => {
    const b = boards.get(name);
    expect(b.name).toBe(name);
    expect(b.ramSize).toBe(ram);
    expect(b.banks).toEqual(banks);
  });

  it('unknown preset → ENOENT', () => {
    expect(code(() => boards.get('pdp-11'))).toBe('ENOENT');
    expect(code(() => boards.get('toString'))).toBe('ENOENT');
  });

  it('ram(size, base) makes one bank', () => {
    const b = boards.ram(8 * MiB, 0x4000_0000);
    expect(b.regions).toEqual([{ base: 0x4000_0000, size: 8 * MiB, kind: 'ram', name: 'ram' }]);
    expect(b.banks).toEqual([{ base: 0x4000_0000, size: 8 * MiB }]);
    expect(code(() => boards.ram(0))).toBe('EINVAL');
    expect(code(() => boards.ram(-4096))).toBe('EINVAL');
    expect(code(() => boards.ram(NaN))).toBe('EINVAL');
  });

  it('sorts regions and merges contiguous ram/reserved into banks, not across devices', () => {
    const b = new BoardMemoryMap([
      { base: 0x3000, size: 0x1000, kind: 'ram', name: 'c' },
      { base: 0x1000, size: 0x1000, kind: 'reserved', name: 'a' },
      { base: 0x2000, size: 0x1000, kind: 'ram', name: 'b' },
      { base: 0x4000, size: 0x1000, kind: 'device', name: 'd' },
      { base: 0x5000, size: 0x1000, kind: 'ram', name: 'e' },
    ]);
    expect(b.regions.map((r) => r.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(b.banks).toEqual([
      { base: 0x1000, size: 0x3000 },
      { base: 0x5000, size: 0x1000 },
    ]);
    expect(b.regionAt(0x4800)?.name).toBe('d');
    expect(b.regionAt(0x6000)).toBeUndefined();
  });

  const ram = (base: number, size: number, name = 'r'): MemoryRegion => ({ base, size, kind: 'ram', name });
  it.each<[string, unknown]>([
    ['empty', []],
    ['not an array', undefined],
    ['overlap', [ram(0, 0x2000, 'a'), ram(0x1000, 0x2000, 'b')]],
    ['unaligned base', [ram(0x100, 0x1000)]],
    ['unaligned size', [ram(0, 0x1100)]],
    ['zero size', [ram(0, 0)]],
    ['negative base', [ram(-512, 0x1000)]],
    ['fractional base', [ram(0.5, 0x1000)]],
    ['NaN size', [ram(0, NaN)]],
    ['past 2^53', [ram(2 ** 53 - 512, 1024)]],
    ['unknown kind', [{ base: 0, size: 4096, kind: 'rom', name: 'x' }]],
    ['no ram at all', [{ base: 0, size: 4096, kind: 'device', name: 'x' }]],
  ])('rejects %s with EINVAL', (_what, regions) => {
    expect(code(() => new BoardMemoryMap(regions as MemoryRegion[]))).toBe('EINVAL');
  });

  it('copies and freezes its regions', () => {
    const input = [ram(0, 0x1000)];
    const b = new BoardMemoryMap(input);
    input[0] = ram(0x8000, 0x1000);
    expect(b.regions[0].base).toBe(0);
    expect(Object.isFrozen(b.regions)).toBe(true);
  });
});
