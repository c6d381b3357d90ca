/*
 * The armv7m side of the Pmap contract that the conformance suite cannot reach generically: grant() by board map,
 * check() catching each broken invariant, and junk access codes never succeeding, cached or not.
 */
import { describe, expect, it } from 'vitest';
import { Access, BoardMemoryMap, FaultCode, PageAllocator, PhysicalMemory } from '@vmlayers/phys';
import { MpuAp, createArmv7m } from '../src/index.js';
import type { MpuPmap } from '../src/index.js';
import { expectError } from './support.js';

const KiB = 1024;
const FLASH = 0x0800_0000;
const SRAM = 0x2000_0000;
const PERIPH = 0x4000_0000;
const R = Access.READ;
const U = Access.USER;

const board = new BoardMemoryMap([
  { base: FLASH, size: 256 * KiB, kind: 'reserved', name: 'flash' },
  { base: SRAM, size: 64 * KiB, kind: 'ram', name: 'sram0' },
  { base: SRAM + 64 * KiB, size: 64 * KiB, kind: 'ram', name: 'sram1' },
  { base: PERIPH, size: 0x1000, kind: 'device', name: 'uart' },
]);

function boot() {
  const arch = createArmv7m({ userMaps: 'none', regions: 16 });
  const mem = new PhysicalMemory(board);
  const kernel = arch.createKernel(mem, new PageAllocator(mem, { pageSize: 512 }), board);
  const user = arch.createUser(kernel);
  return { arch, kernel, user };
}

// The private state check() verifies, reached behind the pmap's back to break it.
type Inner = { mask: number; cacheTag: Int32Array; cacheAllow: Uint8Array };
const inner = (p: MpuPmap) => p as unknown as Inner;

describe('armv7m grant', () => {
  it('grants the board map holding a range, idempotently, and applies at once when loaded', () => {
    const { user } = boot();
    user.activate();
    expect(user.translate(SRAM + 0x10, R | U)).toBe(FaultCode.NOT_MAPPED);
    const before = user.regionMask;
    user.grant(SRAM + 0x200, 0x400);
    expect(user.translate(SRAM + 0x10, R | U)).toBe(SRAM + 0x10);
    expect(user.isAllowed(SRAM, 64 * KiB)).toBe(true);
    const after = user.regionMask;
    expect(after).not.toBe(before);
    user.grant(SRAM + 0x200, 0x400);
    user.grant(SRAM, 64 * KiB);
    expect(user.regionMask).toBe(after);
    // sram1 is another map: not granted by a range inside sram0
    expect(user.translate(SRAM + 64 * KiB, R | U)).toBe(FaultCode.NOT_MAPPED);
    user.check();
  });

  it('grants every map a range spans, and device windows too', () => {
    const { user } = boot();
    user.grant(SRAM + 64 * KiB - 512, 1024);
    expect(user.isAllowed(SRAM, 16)).toBe(true);
    expect(user.isAllowed(SRAM + 64 * KiB, 16)).toBe(true);
    user.grant(PERIPH, 4);
    expect(user.translate(PERIPH, Access.WRITE | U)).toBe(PERIPH);
    user.check();
  });

  it('refuses ranges outside board maps and bad arguments with EINVAL, granting nothing', () => {
    const { user, kernel } = boot();
    const mask = user.regionMask;
    for (const [pa, len] of [
      [SRAM + 128 * KiB, 512], // after the last RAM map
      [SRAM + 128 * KiB - 512, 1024], // runs off the end of sram1: sram0/sram1 must not be granted either
      [0, 512],
      [SRAM, 0],
      [SRAM, -1],
      [SRAM + 0.5, 4],
      [Number.NaN, 4],
      [0xffff_ff00, 0x200], // past 4 GiB
      [BigInt(SRAM), 4],
      [String(SRAM), 4],
    ] as Array<[unknown, unknown]>) {
      expectError('EINVAL', () => user.grant(pa as number, len as number));
      expect(user.regionMask).toBe(mask);
    }
    user.destroy();
    expectError('EINVAL', () => user.grant(SRAM, 4));
    kernel.check();
  });
});

describe('armv7m check()', () => {
  it('passes through grants, switches and cached verdicts', () => {
    const { user, kernel } = boot();
    user.grant(SRAM, 4);
    user.activate();
    for (let a = SRAM; a < SRAM + 8 * KiB; a += 512) user.translate(a, R | U);
    kernel.translate(SRAM, R);
    user.check();
    kernel.check();
  });

  it.each<[string, (s: ReturnType<typeof boot>) => void, RegExp]>([
    ['a loader slot reprogrammed', (s) => s.kernel.mpu.program(1, { base: SRAM, size: 32 * KiB, ap: MpuAp.FULL_ACCESS }), /slot 1 no longer holds/],
    ['a mask naming slots past the MPU', (s) => (inner(s.user).mask |= 1 << 20), /past the MPU/],
    ['the kernel code slot dropped from a mask', (s) => (inner(s.user).mask &= ~1), /kernel code/],
    [
      'a cached verdict allowing more than the MPU',
      (s) => {
        // sram1 is not granted: privileged accesses pass (default map), unprivileged ones fault
        const va = SRAM + 64 * KiB;
        expect(s.user.translate(va, R)).toBe(va);
        inner(s.user).cacheAllow[(va >>> 9) & 1023] |= 0xff;
        expect(s.user.translate(va, R | U)).toBe(va);
      },
      /verdict cache slot/,
    ],
    [
      'a cache tag in the wrong slot',
      (s) => {
        s.user.translate(SRAM, R | U);
        const slot = (SRAM >>> 9) & 1023;
        inner(s.user).cacheTag[slot + 1] = inner(s.user).cacheTag[slot];
      },
      /another slot/,
    ],
  ])('catches %s', (_what, corrupt, message) => {
    const s = boot();
    s.user.grant(SRAM, 4);
    s.user.check();
    corrupt(s);
    expect(() => s.user.check()).toThrow(message);
  });

  it('after destroy, verifies that nothing is held', () => {
    const { user } = boot();
    user.activate();
    user.translate(SRAM, R);
    user.destroy();
    user.check();
    inner(user).cacheTag[3] = 3;
    expect(() => user.check()).toThrow(/caches verdicts/);
  });
});

describe('armv7m translate with junk access codes', () => {
  it('never succeeds, whether the verdict is cached or not', () => {
    const { kernel } = boot();
    const junk: unknown[] = [0, U, -1, 16, 16 | R, 2 ** 32 + R, 2 ** 40, 1.5, Number.NaN, BigInt(R), String(R), null, undefined];
    for (const order of ['cold', 'cached'] as const) {
      if (order === 'cached') expect(kernel.translate(SRAM, R | Access.WRITE | Access.EXEC)).toBe(SRAM);
      for (const access of junk) expect(kernel.translate(SRAM + 8, access as number), `${order} ${String(access)}`).toBe(FaultCode.BAD_ADDRESS);
      expect(kernel.translate(SRAM + 8, R)).toBe(SRAM + 8);
    }
    kernel.check();
  });
});
