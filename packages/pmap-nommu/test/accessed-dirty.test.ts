/*
 * No accessed/dirty bits on armv7m and armv8m: the capability is false and referenced/dirty throw ENOSYS, whatever the
 * arguments and in every state, changing nothing.
 */
import { describe, expect, it } from 'vitest';
import { Access, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import type { Pmap } from '@vmlayers/phys';
import { armv7m, armv8m, createArmv7m, createArmv8m } from '../src/index.js';
import { expectError } from './support.js';

const NO_BITS = /MPU has no accessed\/dirty bits/;

describe.each([armv7m, createArmv7m({ regions: 16, userMaps: 'none' }), armv8m, createArmv8m({ regions: 8, userMaps: 'none' })])('$name ($regionCount regions): no accessed/dirty bits', (arch) => {
  it('declares no accessedDirty capability', () => {
    expect(arch.capabilities.accessedDirty).toBe(false);
    expect(Object.isFrozen(arch.capabilities)).toBe(true);
  });

  it('referenced and dirty throw ENOSYS for every argument, on kernel and user spaces, and change nothing', () => {
    const board = boards.get(arch.defaultBoard);
    const mem = new PhysicalMemory(board);
    const alloc = new PageAllocator(mem, { pageSize: arch.pageSize });
    const kernel = arch.createKernel(mem, alloc, board);
    const user = arch.createUser(kernel);
    user.grant(0x2000_0000, arch.pageSize);
    user.activate();
    const va = 0x2000_0000;
    const access = Access.WRITE | Access.USER;
    expect(user.translate(va, access)).toBe(va);
    const spaces: Pmap[] = [kernel, user];
    const before = spaces.map((s) => ({ stats: s.stats(), tables: s.tables() }));
    const argLists: unknown[][] = [[va], [va, true], [va, false], [va + 3], [0], [Number.NaN], [-1, true], ['x'], [va, 1], [2 ** 40]];
    for (const s of spaces) {
      for (const args of argLists) {
        expectError('ENOSYS', () => (s.referenced as (...a: unknown[]) => unknown)(...args), NO_BITS);
        expectError('ENOSYS', () => (s.dirty as (...a: unknown[]) => unknown)(...args), NO_BITS);
      }
      s.check();
    }
    expect(spaces.map((s) => ({ stats: s.stats(), tables: s.tables() }))).toEqual(before);
    expect(user.translate(va, access)).toBe(va);
    user.destroy();
    expectError('ENOSYS', () => user.referenced(va), NO_BITS);
    expectError('ENOSYS', () => user.dirty(va, true), NO_BITS);
    user.check();
    kernel.check();
  });
});
