import { describe, expect, it } from 'vitest';
import { BoardMemoryMap, CHUNK_SIZE, PhysicalMemory, boards } from '../src/index.js';
import { code } from './support.js';

const BASE = 0x8000_0000;

describe('PhysicalMemory', () => {
  it('reads never-written RAM as zeros without backing it', () => {
    const mem = new PhysicalMemory(boards.get('riscv-virt-4g'));
    expect(mem.read32(BASE + 0xfff0_0000)).toBe(0);
    expect(mem.read(BASE, 64)).toEqual(new Uint8Array(64));
    expect(mem.backedBytes).toBe(0);
  });

  it('backs only chunks written with non-zero data', () => {
    const mem = new PhysicalMemory(boards.ram(1 << 20));
    mem.write32(0x100, 0);
    mem.write(0x2000, new Uint8Array(100));
    expect(mem.backedBytes).toBe(0);
    mem.write8(0x5003, 7);
    expect(mem.backedBytes).toBe(CHUNK_SIZE);
    expect([...mem.backedChunks()]).toEqual([0x5000]);
  });

  it('is little-endian at every width and across a chunk boundary', () => {
    const mem = new PhysicalMemory(boards.ram(1 << 20));
    mem.write32(0x10, 0x11223344);
    expect(mem.read8(0x10)).toBe(0x44);
    expect(mem.read16(0x12)).toBe(0x1122);
    expect([...mem.read(0x10, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    const edge = CHUNK_SIZE - 2;
    mem.write32(edge, 0xdeadbeef);
    expect(mem.read32(edge)).toBe(0xdeadbeef);
    expect(mem.read16(edge)).toBe(0xbeef);
    expect(mem.read16(edge + 2)).toBe(0xdead);
    mem.write16(CHUNK_SIZE - 1, 0xabcd);
    expect(mem.read8(CHUNK_SIZE - 1)).toBe(0xcd);
    expect(mem.read8(CHUNK_SIZE)).toBe(0xab);
    mem.write32(0x40, -1);
    expect(mem.read32(0x40)).toBe(0xffffffff);
    mem.write8(0x50, 0x1ff);
    expect(mem.read8(0x50)).toBe(0xff);
  });

  it('bulk write/read round-trips across chunks and zero releases whole chunks', () => {
    const mem = new PhysicalMemory(boards.ram(1 << 20));
    const bytes = Uint8Array.from({ length: 3 * CHUNK_SIZE + 17 }, (_, i) => (i * 7 + 1) & 0xff);
    mem.write(CHUNK_SIZE - 5, bytes);
    expect(mem.read(CHUNK_SIZE - 5, bytes.length)).toEqual(bytes);
    expect(mem.backedBytes).toBe(5 * CHUNK_SIZE);
    mem.zero(CHUNK_SIZE, 2 * CHUNK_SIZE);
    expect(mem.backedBytes).toBe(3 * CHUNK_SIZE);
    expect(mem.read(CHUNK_SIZE, 2 * CHUNK_SIZE)).toEqual(new Uint8Array(2 * CHUNK_SIZE));
    expect(mem.read8(CHUNK_SIZE - 1)).toBe(bytes[4]);
    mem.zero(0, 1 << 20);
    expect(mem.backedBytes).toBe(0);
  });

  it('copy is memmove', () => {
    const mem = new PhysicalMemory(boards.ram(1 << 16));
    mem.write(0x100, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    mem.copy(0x102, 0x100, 6);
    expect([...mem.read(0x100, 8)]).toEqual([1, 2, 1, 2, 3, 4, 5, 6]);
    mem.copy(0x100, 0x102, 6);
    expect([...mem.read(0x100, 8)]).toEqual([1, 2, 3, 4, 5, 6, 5, 6]);
  });

  it('faults outside RAM and device windows, and on ranges leaving a bank', () => {
    const mem = new PhysicalMemory(boards.get('ia32-pc-32m'));
    expect(code(() => mem.read32(32 << 20))).toBe('EFAULT');
    expect(code(() => mem.write8(0xa0000, 1))).toBe('EFAULT');
    expect(code(() => mem.read(0x9f000, 0x2000))).toBe('EFAULT');
    expect(code(() => mem.read32(-4))).toBe('EFAULT');
    expect(code(() => mem.read32(NaN))).toBe('EFAULT');
    expect(code(() => mem.write32(0.5, 1))).toBe('EFAULT');
    expect(code(() => mem.zero(0xa0000, 16))).toBe('EFAULT');
    expect(code(() => mem.read(0, -1))).toBe('EINVAL');
    expect(mem.backedBytes).toBe(0);
  });

  it('serves device windows through handlers', () => {
    const mem = new PhysicalMemory(boards.get('riscv-virt-64m'));
    const log: string[] = [];
    const regs = new Uint8Array(8);
    mem.mapDevice(0x1000_0000, 8, {
      read: (off, w) => {
        log.push(`r${off}/${w}`);
        return regs[off];
      },
      write: (off, v, w) => {
        log.push(`w${off}/${w}=${v}`);
        regs[off] = v;
      },
    });
    mem.write8(0x1000_0000, 0x41);
    expect(mem.read8(0x1000_0000)).toBe(0x41);
    mem.write(0x1000_0001, Uint8Array.of(1, 2));
    expect(mem.read32(0x1000_0004)).toBe(0);
    expect(log).toEqual(['w0/1=65', 'r0/1', 'w1/1=1', 'w2/1=2', 'r4/4']);
    expect(code(() => mem.read8(0x1000_0008))).toBe('EFAULT');
    expect(code(() => mem.mapDevice(0x1000_0004, 8, { read: () => 0, write: () => {} }))).toBe('EEXIST');
    expect(code(() => mem.mapDevice(0x8000_0000, 8, { read: () => 0, write: () => {} }))).toBe('EINVAL');
    mem.unmapDevice(0x1000_0000);
    expect(code(() => mem.read8(0x1000_0000))).toBe('EFAULT');
    expect(code(() => mem.unmapDevice(0x1000_0000))).toBe('ENOENT');
  });

  it('knows RAM from the rest', () => {
    const mem = new PhysicalMemory(
      new BoardMemoryMap([
        { base: 0, size: 0x1000, kind: 'ram', name: 'a' },
        { base: 0x2000, size: 0x1000, kind: 'ram', name: 'b' },
      ]),
    );
    expect(mem.isRam(0x0ffc, 4)).toBe(true);
    expect(mem.isRam(0x0ffc, 8)).toBe(false);
    expect(mem.isRam(0x1800)).toBe(false);
    expect(mem.isRam(0x2000)).toBe(true);
  });
});

describe('frameWords', () => {
  it('is a live view of a written chunk, null for one never written, stale once the chunk is zeroed', () => {
    const mem = new PhysicalMemory(boards.get('riscv-virt-64m'));
    const pa = 0x8040_0000;
    expect(mem.frameWords(pa)).toBeNull();
    expect(mem.backedBytes).toBe(0); // asking allocated nothing
    mem.write32(pa + 8, 0xdead_beef);
    const w = mem.frameWords(pa)!;
    expect(w).toBeInstanceOf(Uint32Array);
    expect(w.length).toBe(1024);
    expect(w[2]).toBe(0xdead_beef);
    w[3] = 0x1234_5678; // a write through the view is a write to RAM
    expect(mem.read32(pa + 12)).toBe(0x1234_5678);
    expect(mem.frameWords(pa)).toBe(w);
    mem.zero(pa, 4096); // what a frame free does: the storage is dropped
    expect(mem.frameWords(pa)).toBeNull();
    mem.write8(pa, 1);
    expect(mem.frameWords(pa)).not.toBe(w);
  });

  it('refuses what is not an aligned chunk of RAM', () => {
    const mem = new PhysicalMemory(boards.get('riscv-virt-64m'));
    for (const pa of [0x8040_0004, 0x1000_0000, 0x8400_0000, -4096, 0.5, Number.NaN]) {
      expect(() => mem.frameWords(pa), String(pa)).toThrow(expect.objectContaining({ code: 'EFAULT' }));
    }
    expect(() => mem.frameWords('0x80400000' as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(mem.backedBytes).toBe(0);
  });
});
