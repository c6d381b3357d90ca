/*
 * The RISC-V walkers against the privileged specification (Sv32/Sv39/Sv48 translation process, Svpbmt, Svnapot,
 * Svade/Svadu). Every PTE here is encoded by hand from the manual's bit positions — V 0, R 1, W 2, X 3, U 4, G 5,
 * A 6, D 7, RSW 8–9, PPN from bit 10 (Sv39/Sv48 up to bit 53), bits 54–60 reserved, PBMT 61–62, N 63 — never with
 * the package's encoders. Expected causes are the scause values: 12 instruction, 13 load, 15 store/AMO page fault;
 * 1, 5, 7 the access faults.
 */
import { Access, BoardMemoryMap, FaultCode, PhysicalMemory, VmError, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createWalker } from '../src/walk/create-walker.js';
import { RiscvWalker } from '../src/walk/riscv.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const RAM_BASE = 0x8000_0000;

// PTE bits, from the manual's figure of the Sv39 PTE.
const V = 1n << 0n;
const R = 1n << 1n;
const W = 1n << 2n;
const X = 1n << 3n;
const U = 1n << 4n;
const A = 1n << 6n;
const D = 1n << 7n;
const PBMT_NC = 1n << 61n;
const PBMT_IO = 2n << 61n;
const PBMT_RSV = 3n << 61n;
const N = 1n << 63n;

const { READ, WRITE, EXEC, USER } = Access;
const AMO = READ | WRITE;
const cause = (access: number) => ((access & 7) === EXEC ? 12 : access & WRITE ? 15 : 13);
const accessCause = (access: number) => ((access & 7) === EXEC ? 1 : access & WRITE ? 7 : 5);

/** A PTE with PPN `ppn` (a page number) and `bits`. */
const pte = (ppn: number, bits: bigint) => (BigInt(ppn) << 10n) | bits;

class Space {
  readonly mem = new PhysicalMemory(boards.ram(64 * MiB, RAM_BASE));
  private next = RAM_BASE;
  readonly root: number;
  constructor(readonly pteSize: 4 | 8, readonly bits: number, readonly levels: number) {
    this.root = this.table();
  }
  table(): number {
    const t = this.next;
    this.next += 4096;
    return t;
  }
  frame(): number {
    return this.table();
  }
  write(addr: number, value: bigint): void {
    this.mem.write32(addr, Number(value & 0xffff_ffffn));
    if (this.pteSize === 8) this.mem.write32(addr + 4, Number((value >> 32n) & 0xffff_ffffn));
  }
  read(addr: number): bigint {
    const lo = BigInt(this.mem.read32(addr));
    return this.pteSize === 8 ? lo | (BigInt(this.mem.read32(addr + 4)) << 32n) : lo;
  }
  /** The address of the PTE for `va` in the table at `level`, building pointer PTEs (V only) down to it. */
  slot(va: number, level: number, pointerBits: bigint = V): number {
    const vpn = BigInt.asUintN(64, BigInt(va)) >> 12n;
    let table = this.root;
    for (let i = this.levels - 1; ; i--) {
      const idx = Number((vpn >> BigInt(this.bits * i)) & BigInt(2 ** this.bits - 1));
      const addr = table + idx * this.pteSize;
      if (i === level) return addr;
      let e = this.read(addr);
      if ((e & V) === 0n) {
        e = pte(this.table() / 4096, pointerBits);
        this.write(addr, e);
      }
      table = Number((e >> 10n) & ((1n << 44n) - 1n)) * 4096;
    }
  }
  /** Writes `value` as the PTE of `va` at `level`; returns its address. */
  map(va: number, level: number, value: bigint): number {
    const addr = this.slot(va, level);
    this.write(addr, value);
    return addr;
  }
}

const sv39 = () => new Space(8, 9, 3);
const sv32 = () => new Space(4, 10, 2);
const sv48 = () => new Space(8, 9, 4);

/**
 * The permission rule of step 5 written out from the manual's text: user mode needs U; supervisor mode may read
 * and write U pages only with SUM and never execute them; a load needs R (or X with MXR), a store W, a fetch X.
 */
function specAllows(r: boolean, w: boolean, x: boolean, u: boolean, access: number, sum: boolean, mxr: boolean): boolean {
  const user = (access & USER) !== 0;
  const kinds = access & 7;
  if (user && !u) return false;
  if (!user && u && (!sum || kinds === EXEC)) return false;
  if (kinds & READ && !(r || (mxr && x))) return false;
  if (kinds & WRITE && !w) return false;
  if (kinds & EXEC && !x) return false;
  return true;
}

describe('RISC-V walker: permissions (step 5), every combination', () => {
  for (const [name, make] of [['sv32', sv32], ['sv39', sv39], ['sv48', sv48]] as const) {
    it(`${name}: 16 R/W/X/U leaves × 4 accesses × user/supervisor × SUM × MXR`, () => {
      const s = make();
      const w = createWalker(name, s.mem);
      const frame = s.frame();
      let checked = 0;
      for (let b = 0; b < 16; b++) {
        const r = (b & 1) !== 0;
        const wr = (b & 2) !== 0;
        const x = (b & 4) !== 0;
        const u = (b & 8) !== 0;
        const va = 0x40_0000 + b * 4096;
        const bits = V | A | D | (r ? R : 0n) | (wr ? W : 0n) | (x ? X : 0n) | (u ? U : 0n);
        s.map(va, 0, pte(frame / 4096, bits));
        for (const kinds of [READ, WRITE, AMO, EXEC]) {
          for (const user of [0, USER]) {
            for (const sum of [false, true]) {
              for (const mxr of [false, true]) {
                const access = kinds | user;
                w.flushAll();
                const got = w.translate(s.root, va + 0x123, access, { sum, mxr });
                if (!r && !wr && !x) {
                  // R=W=X=0 is a pointer, on which A, D and U are reserved (step 3 checks them before step 4
                  // finds a pointer at level 0): a page fault whatever the access.
                  expect(got, `b=${b}`).toBe(FaultCode.BAD_ADDRESS);
                  expect(w.fault.kind).toBe('reserved');
                } else if (!r && wr) {
                  // W without R is reserved (step 3), before any permission check.
                  expect(got).toBe(FaultCode.BAD_ADDRESS);
                  expect(w.fault.kind).toBe('write-only');
                  expect(w.fault.cause).toBe(cause(access));
                } else if (specAllows(r, wr, x, u, access, sum, mxr)) {
                  expect(got, `b=${b} access=${access} sum=${sum} mxr=${mxr}`).toBe(frame + 0x123);
                  // A second time from the TLB: the same answer.
                  expect(w.translate(s.root, va + 0x123, access, { sum, mxr })).toBe(frame + 0x123);
                } else {
                  expect(got, `b=${b} access=${access} sum=${sum} mxr=${mxr}`).toBe(FaultCode.PROTECTION);
                  expect(w.fault).toMatchObject({ cause: cause(access), va: va + 0x123, level: 0, kind: 'permission', access });
                }
                checked++;
              }
            }
          }
        }
      }
      expect(checked).toBe(16 * 4 * 2 * 2 * 2);
    });
  }

  it('a TLB entry filled in one context answers another one by the same rules (SUM/MXR need no flush)', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem);
    const frame = s.frame();
    s.map(0x1000, 0, pte(frame / 4096, V | R | W | U | A | D));
    s.map(0x2000, 0, pte(frame / 4096, V | X | A | D));
    expect(w.translate(s.root, 0x1000, READ | USER)).toBe(frame);
    expect(w.translate(s.root, 0x1000, READ)).toBe(FaultCode.PROTECTION);
    expect(w.translate(s.root, 0x1000, READ, { sum: true })).toBe(frame);
    expect(w.translate(s.root, 0x1000, WRITE, { sum: true })).toBe(frame);
    // S-mode never executes a U page, SUM or not.
    expect(w.translate(s.root, 0x1000, EXEC, { sum: true })).toBe(FaultCode.PROTECTION);
    expect(w.fault.cause).toBe(12);
    expect(w.translate(s.root, 0x2000, EXEC)).toBe(frame);
    expect(w.translate(s.root, 0x2000, READ)).toBe(FaultCode.PROTECTION);
    expect(w.translate(s.root, 0x2000, READ, { mxr: true })).toBe(frame);
    // `user` in the options is the same as Access.USER.
    expect(w.translate(s.root, 0x1000, READ, { user: true })).toBe(frame);
    expect(w.translate(s.root, 0x2000, EXEC, { user: true })).toBe(FaultCode.PROTECTION);
    expect(w.fault.access).toBe(EXEC | USER);
  });
});

describe('RISC-V walker: the fault conditions of the translation process', () => {
  const LOAD = READ;
  type Row = {
    name: string;
    format?: 'sv39' | 'sv32' | 'sv48';
    options?: Parameters<typeof createWalker>[2];
    build: (s: Space, frame: number) => void;
    va: number;
    access?: number;
    kind: string;
    level: number;
    result?: number;
  };
  const VA = 0x4020_3000; // Sv39: VPN[2] 1, VPN[1] 1, VPN[0] 3
  const rows: Row[] = [
    { name: 'V=0 in the leaf', build: (s, f) => s.map(VA, 0, pte(f / 4096, R | W | A | D)), va: VA, kind: 'invalid', level: 0, result: FaultCode.NOT_MAPPED },
    { name: 'V=0 in the root', build: () => {}, va: VA, kind: 'invalid', level: 2, result: FaultCode.NOT_MAPPED },
    { name: 'V=0 in a level-1 table', build: (s) => s.slot(VA, 1), va: VA, kind: 'invalid', level: 1, result: FaultCode.NOT_MAPPED },
    { name: 'W=1 R=0 leaf', build: (s, f) => s.map(VA, 0, pte(f / 4096, V | W | A | D)), va: VA, kind: 'write-only', level: 0 },
    { name: 'W=1 R=0 X=1 leaf', build: (s, f) => s.map(VA, 0, pte(f / 4096, V | W | X | A | D)), va: VA, access: EXEC, kind: 'write-only', level: 0 },
    { name: 'W=1 R=0 as a superpage', build: (s) => s.map(VA, 1, pte(0x80400, V | W | A | D)), va: VA, kind: 'write-only', level: 1 },
    ...[54, 55, 58, 60].map(
      (bit): Row => ({
        name: `reserved bit ${bit} in a leaf`,
        build: (s, f) => s.map(VA, 0, pte(f / 4096, V | R | A | D) | (1n << BigInt(bit))),
        va: VA,
        kind: 'reserved',
        level: 0,
      }),
    ),
    { name: 'reserved bit 57 in a pointer', build: (s) => s.write(s.slot(VA, 2), pte(s.table() / 4096, V) | (1n << 57n)), va: VA, kind: 'reserved', level: 2 },
    { name: 'PBMT=3 in a leaf', build: (s, f) => s.map(VA, 0, pte(f / 4096, V | R | A | D) | PBMT_RSV), va: VA, kind: 'reserved', level: 0 },
    { name: 'PBMT=NC in a pointer', build: (s) => s.write(s.slot(VA, 2), pte(s.table() / 4096, V) | PBMT_NC), va: VA, kind: 'reserved', level: 2 },
    { name: 'PBMT=IO in a pointer', build: (s) => s.write(s.slot(VA, 1), pte(s.table() / 4096, V) | PBMT_IO), va: VA, kind: 'reserved', level: 1 },
    {
      name: 'PBMT=NC without Svpbmt',
      options: { svpbmt: false },
      build: (s, f) => s.map(VA, 0, pte(f / 4096, V | R | A | D) | PBMT_NC),
      va: VA,
      kind: 'reserved',
      level: 0,
    },
    { name: 'N with PPN[3:0] ≠ 1000', build: (s, f) => s.map(VA, 0, pte(f / 4096 + 16, V | R | A | D) | N), va: VA, kind: 'reserved', level: 0 },
    { name: 'N on a 2 MiB superpage', build: (s) => s.map(VA, 1, pte(0x80408, V | R | A | D) | N), va: VA, kind: 'reserved', level: 1 },
    { name: 'N on a pointer', build: (s) => s.write(s.slot(VA, 1), pte(s.table() / 4096, V) | N), va: VA, kind: 'reserved', level: 1 },
    {
      name: 'N without Svnapot',
      options: { svnapot: false },
      build: (s, f) => s.map(VA, 0, pte(f / 4096 + 8, V | R | A | D) | N),
      va: VA,
      kind: 'reserved',
      level: 0,
    },
    ...([['D', D], ['A', A], ['U', U]] as const).map(
      ([n, bit]): Row => ({
        name: `${n} in a pointer`,
        build: (s) => s.write(s.slot(VA, 1), pte(s.table() / 4096, V | bit)),
        va: VA,
        kind: 'reserved',
        level: 1,
      }),
    ),
    { name: 'a pointer in a level-0 table', build: (s) => s.map(VA, 0, pte(s.table() / 4096, V)), va: VA, kind: 'no-leaf', level: 0 },
    { name: 'misaligned 2 MiB superpage', build: (s) => s.map(VA, 1, pte(0x80401, V | R | W | X | A | D)), va: VA, kind: 'misaligned', level: 1 },
    { name: 'misaligned 1 GiB superpage (PPN[1] ≠ 0)', build: (s) => s.map(VA, 2, pte(0x80200, V | R | W | X | A | D)), va: VA, kind: 'misaligned', level: 2 },
    { name: 'misaligned 1 GiB superpage (PPN[0] ≠ 0)', build: (s) => s.map(VA, 2, pte(0x80001, V | R | W | X | A | D)), va: VA, kind: 'misaligned', level: 2 },
    {
      name: 'a permission fault comes before the misaligned check (step 5, then 6)',
      build: (s) => s.map(VA, 1, pte(0x80401, V | R | A | D)),
      va: VA,
      access: WRITE,
      kind: 'permission',
      level: 1,
      result: FaultCode.PROTECTION,
    },
    { name: 'Svade: A=0', options: { ad: 'svade' }, build: (s, f) => s.map(VA, 0, pte(f / 4096, V | R | W | X)), va: VA, kind: 'accessed', level: 0, result: FaultCode.PROTECTION },
    {
      name: 'Svade: a store with D=0',
      options: { ad: 'svade' },
      build: (s, f) => s.map(VA, 0, pte(f / 4096, V | R | W | A)),
      va: VA,
      access: WRITE,
      kind: 'dirty',
      level: 0,
      result: FaultCode.PROTECTION,
    },
    {
      name: 'Svade: an AMO with D=0',
      options: { ad: 'svade' },
      build: (s, f) => s.map(VA, 0, pte(f / 4096, V | R | W | A)),
      va: VA,
      access: AMO,
      kind: 'dirty',
      level: 0,
      result: FaultCode.PROTECTION,
    },
    { name: 'non-canonical: 2^38', build: () => {}, va: 2 ** 38, kind: 'non-canonical', level: -1, result: FaultCode.NON_CANONICAL },
    { name: 'non-canonical: -2^38 - 4096', build: () => {}, va: -(2 ** 38) - 4096, kind: 'non-canonical', level: -1, result: FaultCode.NON_CANONICAL },
    { name: 'non-canonical: 2^62', build: () => {}, va: 2 ** 62, kind: 'non-canonical', level: -1, result: FaultCode.NON_CANONICAL },
    { name: 'Sv48 non-canonical: 2^47', format: 'sv48', build: () => {}, va: 2 ** 47, kind: 'non-canonical', level: -1, result: FaultCode.NON_CANONICAL },
    {
      name: 'Sv48 non-canonical: -2^47 - 1 page',
      format: 'sv48',
      build: () => {},
      va: -(2 ** 47) - 4096,
      kind: 'non-canonical',
      level: -1,
      result: FaultCode.NON_CANONICAL,
    },
    { name: 'Sv32 W=1 R=0', format: 'sv32', build: (s, f) => s.map(VA, 0, pte(f / 4096, V | W | A | D)), va: VA, kind: 'write-only', level: 0 },
    { name: 'Sv32 A in a pointer', format: 'sv32', build: (s) => s.write(s.slot(VA, 1), pte(s.table() / 4096, V | A)), va: VA, kind: 'reserved', level: 1 },
    { name: 'Sv32 misaligned 4 MiB megapage', format: 'sv32', build: (s) => s.map(VA, 1, pte(0x80001, V | R | W | X | A | D)), va: VA, kind: 'misaligned', level: 1 },
    { name: 'Sv32 a pointer at level 0', format: 'sv32', build: (s) => s.map(VA, 0, pte(s.table() / 4096, V)), va: VA, kind: 'no-leaf', level: 0 },
    { name: 'Sv48 misaligned 512 GiB page', format: 'sv48', build: (s) => s.map(VA, 3, pte(0x8_0000, V | R | W | X | A | D)), va: VA, kind: 'misaligned', level: 3 },
  ];

  for (const row of rows) {
    for (const access of row.access === undefined ? [LOAD, WRITE, EXEC] : [row.access]) {
      it(`${row.format ?? 'sv39'}: ${row.name} (${['', 'load', 'store', 'AMO', 'fetch'][access & 7]})`, () => {
        const fmt = row.format ?? 'sv39';
        const s = fmt === 'sv32' ? sv32() : fmt === 'sv48' ? sv48() : sv39();
        const w = createWalker(fmt, s.mem, row.options);
        const frame = s.frame();
        row.build(s, frame);
        // A fault the access kind decides (permission, dirty) is tested with its access; the rest with all three.
        const before = s.mem.read(RAM_BASE, 8 * 4096);
        const got = w.translate(s.root, row.va, access);
        expect(got).toBe(row.result ?? FaultCode.BAD_ADDRESS);
        expect(w.fault).toMatchObject({ cause: cause(access), va: row.va, level: row.level, kind: row.kind, code: 0 });
        expect(w.fault.result).toBe(got);
        // A fault sets no A/D anywhere.
        expect(Buffer.compare(s.mem.read(RAM_BASE, 8 * 4096), before)).toBe(0);
        expect(w.stats()).toMatchObject({ faults: 1, entries: 0 });
      });
    }
  }

  it('a page-table entry outside RAM raises the access fault of the access type (1, 5, 7)', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem);
    // The root itself outside RAM.
    for (const access of [READ, WRITE, AMO, EXEC]) {
      expect(w.translate(0x1000_0000, VA, access)).toBe(FaultCode.BAD_ADDRESS);
      expect(w.fault).toMatchObject({ cause: accessCause(access), level: 2, kind: 'pte-access' });
    }
    // A pointer to a table outside RAM (just past its end), found at level 1.
    s.write(s.slot(VA, 2), pte((RAM_BASE + 64 * MiB) / 4096, V));
    expect(w.translate(s.root, VA, READ)).toBe(FaultCode.BAD_ADDRESS);
    expect(w.fault).toMatchObject({ cause: 5, level: 1, kind: 'pte-access' });
    // A pointer to a table far above 2^53 (a 44-bit PPN).
    s.write(s.slot(VA, 2), pte(2 ** 43, V));
    expect(w.translate(s.root, VA, WRITE)).toBe(FaultCode.BAD_ADDRESS);
    expect(w.fault).toMatchObject({ cause: 7, level: 1, kind: 'pte-access' });
  });

  it('a page table in a device window is outside RAM too: the access fault', () => {
    const board = new BoardMemoryMap([
      { base: RAM_BASE, size: 16 * MiB, kind: 'ram', name: 'dram' },
      { base: 0x1000_0000, size: 0x1000, kind: 'device', name: 'uart' },
    ]);
    const mem = new PhysicalMemory(board);
    mem.mapDevice(0x1000_0000, 0x1000, { read: () => 0xffff_ffff, write: () => {} });
    const w = createWalker('sv39', mem);
    // Root entry 1 (VA's VPN[2]) points at the device window.
    mem.write32(RAM_BASE + 8, Number(pte(0x1000_0000 / 4096, V)));
    expect(w.translate(RAM_BASE, VA, EXEC)).toBe(FaultCode.BAD_ADDRESS);
    expect(w.fault).toMatchObject({ cause: 1, level: 1, kind: 'pte-access' });
  });

  it('a leaf may map memory outside RAM (the access there is the caller\'s), but not at or above 2^53', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem);
    s.map(0x1000, 0, pte(0x1000_0, V | R | W | A | D)); // 0x1000_0000: a device window
    expect(w.translate(s.root, 0x1008, READ)).toBe(0x1000_0008);
    s.map(0x2000, 0, pte(2 ** 41, V | R | A | D)); // 2^53
    expect(w.translate(s.root, 0x2000, READ)).toBe(FaultCode.BAD_ADDRESS);
    expect(w.fault).toMatchObject({ cause: 5, kind: 'pa-range', level: 0 });
    s.map(0x3000, 0, pte(2 ** 41 - 1, V | R | A | D)); // the last page below 2^53
    expect(w.translate(s.root, 0x3ff8, READ)).toBe(2 ** 53 - 8);
    expect(w.translate(s.root, 0x3ff8, READ)).toBe(2 ** 53 - 8); // and from the TLB
  });
});

describe('RISC-V walker: translations the manual defines', () => {
  it('Sv39: 4 KiB pages, 2 MiB and 1 GiB superpages keep the lower VPN fields of the address', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem);
    const frame = s.frame();
    s.map(0x1000, 0, pte(frame / 4096, V | R | A));
    s.map(0x4000_0000 + 2 * MiB, 1, pte(0x8020_0000 / 4096, V | R | W | A | D));
    s.map(0x40_0000_0000 - GiB, 2, pte(0xc000_0000 / 4096, V | R | X | A));
    expect(w.translate(s.root, 0x1abc, READ)).toBe(frame + 0xabc);
    expect(w.translate(s.root, 0x4000_0000 + 2 * MiB + 0x1_2345, WRITE)).toBe(0x8021_2345);
    expect(w.translate(s.root, 0x40_0000_0000 - GiB + 0x1234_5678, EXEC)).toBe(0xd234_5678);
    // Another page of the same superpages (a TLB miss: superpages are cached as 4 KiB fragments).
    expect(w.translate(s.root, 0x4000_0000 + 2 * MiB + 0x1f_fffc, READ)).toBe(0x803f_fffc);
    expect(w.translate(s.root, 0x40_0000_0000 - 4, EXEC)).toBe(0xffff_fffc);
  });

  it('Sv39 upper half: a sign-extended address walks root entries 256–511', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem);
    const frame = s.frame();
    // -4096 = 0xFFFF_FFFF_FFFF_F000: VPN[2] = VPN[1] = VPN[0] = 511.
    const addr = s.map(-4096, 0, pte(frame / 4096, V | R | A));
    expect((addr % 4096) / 8).toBe(511);
    expect(s.read(s.root + 511 * 8) & V).toBe(V);
    expect(w.translate(s.root, -4096 + 0x10, READ)).toBe(frame + 0x10);
    expect(w.translate(s.root, -4096 + 0x10, READ)).toBe(frame + 0x10);
    // -2^38 is the lowest canonical address: root entry 256.
    s.map(-(2 ** 38), 2, pte(0x8000_0000 / 4096, V | R | A));
    expect(w.translate(s.root, -(2 ** 38) + 0x40, READ)).toBe(0x8000_0040);
    expect((s.read(s.root + 256 * 8) & V) === V).toBe(true);
    expect(w.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it('Sv48: four levels, a 512 GiB page at the root, and the upper half', () => {
    const s = sv48();
    const w = createWalker('sv48', s.mem);
    const frame = s.frame();
    s.map(0x7fff_ffff_f000, 0, pte(frame / 4096, V | R | W | A | D));
    expect(w.translate(s.root, 0x7fff_ffff_f123, WRITE)).toBe(frame + 0x123);
    s.map(-(2 ** 47), 0, pte(frame / 4096, V | R | A));
    expect(w.translate(s.root, -(2 ** 47) + 8, READ)).toBe(frame + 8);
    s.map(0x80_0000_0000, 3, pte(0, V | R | A)); // 512 GiB at physical 0
    expect(w.translate(s.root, 0x80_0000_0000 + 0x8000_1234, READ)).toBe(0x8000_1234);
    expect(w.translate(s.root, 0x80_0000_0000 + 3 * GiB, READ)).toBe(3 * GiB);
  });

  it('Sv32: 34-bit physical addresses, 4 MiB megapages, signed or unsigned 32-bit addresses', () => {
    const s = sv32();
    const w = createWalker('sv32', s.mem);
    s.map(0x1000, 0, pte(0x3_ffff_f, V | R | A)); // the last page of the 34-bit space
    expect(w.translate(s.root, 0x1ffc, READ)).toBe(2 ** 34 - 4);
    expect(w.translate(s.root, 0x1ffc, READ)).toBe(2 ** 34 - 4);
    s.map(0xffc0_0000, 1, pte(0x8040_0000 / 4096, V | R | W | X | A | D));
    expect(w.translate(s.root, 0xffc1_2345, WRITE)).toBe(0x8041_2345);
    expect(w.translate(s.root, 0xffc1_2345 | 0, EXEC)).toBe(0x8041_2345);
    expect(w.translate(s.root, -4, READ)).toBe(0x807f_fffc);
    expect(w.translate(s.root, -4, READ)).toBe(0x807f_fffc);
  });

  it('Svnapot: a level-0 leaf with N and PPN ending in 1000 maps 64 KiB, the page number from the address', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem);
    // 64 KiB at 0x8100_0000 (PPN 0x81000, NAPOT form 0x81008) for va 0x10_0000…0x10_ffff: all 16 PTEs say so.
    for (let p = 0; p < 16; p++) s.map(0x10_0000 + p * 4096, 0, pte(0x81008, V | R | A) | N);
    for (let p = 0; p < 16; p++) expect(w.translate(s.root, 0x10_0000 + p * 4096 + 4, READ)).toBe(0x8100_0004 + p * 4096);
  });

  it('Svpbmt: NC and IO leaves translate like PMA ones', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem);
    s.map(0x1000, 0, pte(0x1000_0, V | R | W | A | D) | PBMT_IO);
    s.map(0x2000, 0, pte(0x8000_0, V | R | A) | PBMT_NC);
    expect(w.translate(s.root, 0x1004, WRITE)).toBe(0x1000_0004);
    expect(w.translate(s.root, 0x2004, READ)).toBe(0x8000_0004);
  });

  it('Svadu: A on any allowed access and D on a store, set in the PTE in RAM; nothing else changes', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem, { ad: 'svadu' });
    const frame = s.frame();
    const bits = V | R | W | U | (3n << 8n); // RSW bits survive
    const addr = s.map(0x5000, 0, pte(frame / 4096, bits) | PBMT_NC);
    const pointer = s.read(s.slot(0x5000, 1));
    expect(w.translate(s.root, 0x5000, READ | USER)).toBe(frame);
    expect(s.read(addr)).toBe(pte(frame / 4096, bits | A) | PBMT_NC);
    // The first store after a load walks again (the TLB entry of a clean page allows no store) and sets D.
    expect(w.translate(s.root, 0x5008, WRITE | USER)).toBe(frame + 8);
    expect(s.read(addr)).toBe(pte(frame / 4096, bits | A | D) | PBMT_NC);
    expect(w.stats()).toMatchObject({ misses: 2, hits: 0 });
    expect(w.translate(s.root, 0x5008, WRITE | USER)).toBe(frame + 8);
    expect(w.stats()).toMatchObject({ misses: 2, hits: 1 });
    // Pointers are left alone (their A/D are reserved).
    expect(s.read(s.slot(0x5000, 1))).toBe(pointer);
    // A denied access sets nothing.
    const other = s.map(0x6000, 0, pte(frame / 4096, V | R));
    expect(w.translate(s.root, 0x6000, WRITE)).toBe(FaultCode.PROTECTION);
    expect(s.read(other)).toBe(pte(frame / 4096, V | R));
  });

  it('Svade: software sets A and D, then the access goes through; a load of a clean page does not need D', () => {
    const s = sv39();
    const w = createWalker('sv39', s.mem, { ad: 'svade' });
    const frame = s.frame();
    const addr = s.map(0x5000, 0, pte(frame / 4096, V | R | W));
    expect(w.translate(s.root, 0x5000, READ)).toBe(FaultCode.PROTECTION);
    expect(w.fault).toMatchObject({ cause: 13, kind: 'accessed' });
    s.write(addr, pte(frame / 4096, V | R | W | A));
    expect(w.translate(s.root, 0x5000, READ)).toBe(frame);
    expect(w.translate(s.root, 0x5000, WRITE)).toBe(FaultCode.PROTECTION);
    expect(w.fault).toMatchObject({ cause: 15, kind: 'dirty' });
    s.write(addr, pte(frame / 4096, V | R | W | A | D));
    expect(w.translate(s.root, 0x5000, WRITE)).toBe(frame);
    expect(s.read(addr)).toBe(pte(frame / 4096, V | R | W | A | D));
  });
});

describe('RISC-V walker: arguments', () => {
  const s = sv39();
  const w = createWalker('sv39', s.mem);
  s.map(0x1000, 0, pte(0x80000, V | R | A));
  w.translate(s.root, 0x1000, READ); // a TLB entry: junk must be refused on the hit path too

  const bad: [string, () => unknown][] = [
    ['a fractional va', () => w.translate(s.root, 4096.5, READ)],
    ['NaN', () => w.translate(s.root, NaN, READ)],
    ['Infinity', () => w.translate(s.root, Infinity, READ)],
    ['a va at 2^63', () => w.translate(s.root, 2 ** 63, READ)],
    ['a string va', () => w.translate(s.root, '4096' as unknown as number, READ)],
    ['access 0', () => w.translate(s.root, 0x1000, 0)],
    ['access USER alone', () => w.translate(s.root, 0x1000, USER)],
    ['access READ|EXEC', () => w.translate(s.root, 0x1000, READ | EXEC)],
    ['access 16', () => w.translate(s.root, 0x1000, 17)],
    ['access 1.5', () => w.translate(s.root, 0x1000, 1.5)],
    ['an unaligned root', () => w.translate(s.root + 8, 0x2000, READ)],
    ['a negative root', () => w.translate(-4096, 0x2000, READ)],
    ['a string root', () => w.translate('0' as unknown as number, 0x2000, READ)],
    ['an ASID of 2^16', () => w.translate(s.root, 0x1000, READ, { asid: 65536 })],
    ['an ASID of 1.5', () => w.translate(s.root, 0x1000, READ, { asid: 1.5 })],
    ['a fractional sfence.vma address', () => w.sfenceVma(0.5)],
    ['a negative sfence.vma ASID', () => w.sfenceVma(undefined, -1)],
    ['an unknown format', () => createWalker('sv57' as 'sv39', s.mem)],
    ['an unknown A/D option', () => createWalker('sv39', s.mem, { ad: 'none' as 'svade' })],
    ['a TLB size that is not a power of two', () => createWalker('sv39', s.mem, { tlbSize: 100 })],
    ['no memory', () => createWalker('sv39', {} as PhysicalMemory)],
    ['Sv32 ASID of 2^9', () => createWalker('sv32', s.mem).translate(s.root, 0, READ, { asid: 512 })],
    ['Sv32 va of 2^32', () => createWalker('sv32', s.mem).translate(s.root, 2 ** 32, READ)],
    ['Sv32 root of 2^34', () => createWalker('sv32', s.mem).translate(2 ** 34, 0, READ)],
  ];
  for (const [name, call] of bad) {
    it(`refuses ${name} with EINVAL`, () => {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(VmError);
      expect((err as VmError).code).toBe('EINVAL');
    });
  }

  it('is a RiscvWalker, for each format', () => {
    for (const f of ['sv32', 'sv39', 'sv48'] as const) expect(createWalker(f, s.mem)).toBeInstanceOf(RiscvWalker);
  });
});
