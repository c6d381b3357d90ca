/*
 * The x86 walkers against the Intel SDM vol. 3A chapter 4: access rights (§4.6: R/W, U/S, XD combined over the
 * levels, CR0.WP, SMEP, SMAP with EFLAGS.AC), the #PF error code (§4.7: P bit 0, W/R bit 1, U/S bit 2, RSVD bit 3,
 * I/D bit 4), A/D (§4.8), large pages, reserved bits and canonical addresses. Every entry is encoded by hand from
 * the SDM's tables — P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6, PS 7 (PTE: PAT), G 8, address from bit 12, XD 63 —
 * never with the package's encoders.
 */
import { Access, FaultCode, PhysicalMemory, VmError, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createWalker } from '../src/walk/create-walker.js';
import type { X86Format, X86WalkerOptions } from '../src/walk/x86.js';

const MiB = 1024 * 1024;
const RAM = 0x100_0000; // 16 MiB
const P = 1n << 0n;
const RW = 1n << 1n;
const US = 1n << 2n;
const A = 1n << 5n;
const D = 1n << 6n;
const PS = 1n << 7n;
const G = 1n << 8n;
const XD = 1n << 63n;
const { READ, WRITE, EXEC, USER } = Access;
const RMW = READ | WRITE;
// #PF error-code bits (SDM Figure 4-12).
const EC_P = 1;
const EC_WR = 2;
const EC_US = 4;
const EC_RSVD = 8;
const EC_ID = 16;

class X86Space {
  readonly mem = new PhysicalMemory(boards.ram(64 * MiB, RAM));
  private next = RAM;
  readonly root: number;
  readonly size: 4 | 8;
  readonly levels: number;
  constructor(readonly format: X86Format) {
    this.size = format === 'ia32' ? 4 : 8;
    this.levels = format === 'ia32' ? 2 : format === 'pae' ? 3 : 4;
    this.root = this.table();
  }
  table(): number {
    const t = this.next;
    this.next += 4096;
    return t;
  }
  write(addr: number, v: bigint): void {
    this.mem.write32(addr, Number(v & 0xffff_ffffn));
    if (this.size === 8) this.mem.write32(addr + 4, Number(v >> 32n));
  }
  read(addr: number): bigint {
    const lo = BigInt(this.mem.read32(addr));
    return this.size === 8 ? lo | (BigInt(this.mem.read32(addr + 4)) << 32n) : lo;
  }
  index(va: number, level: number): number {
    const v = BigInt.asUintN(64, BigInt(va));
    if (this.format === 'ia32') return Number((v >> BigInt(12 + 10 * level)) & 1023n);
    if (this.format === 'pae' && level === 2) return Number((v >> 30n) & 3n);
    return Number((v >> BigInt(12 + 9 * level)) & 511n);
  }
  /** The entry address for `va` at `level`, making pointers with `bits` (PAE's PDPTEs: P only) on the way. */
  slot(va: number, level: number, bits: bigint = P | RW | US): number {
    let t = this.root;
    for (let i = this.levels - 1; ; i--) {
      const addr = t + this.index(va, i) * this.size;
      if (i === level) return addr;
      let e = this.read(addr);
      if ((e & P) === 0n) {
        e = BigInt(this.table()) | (this.format === 'pae' && i === 2 ? P : bits);
        this.write(addr, e);
      }
      t = Number(e & 0xf_ffff_ffff_f000n);
    }
  }
  map(va: number, level: number, v: bigint, pointerBits?: bigint): number {
    const addr = this.slot(va, level, pointerBits);
    this.write(addr, v);
    return addr;
  }
}

const kindsOf = (access: number) => access & 7;

/** SDM §4.6, written out: may this access go through a page with the effective rights rw, us, xd? */
function sdmAllows(rw: boolean, us: boolean, xd: boolean, access: number, o: { wp: boolean; smep: boolean; smap: boolean }, ac: boolean): boolean {
  const user = (access & USER) !== 0;
  const k = kindsOf(access);
  if (user) {
    if (!us) return false;
    if (k & WRITE && !rw) return false;
    if (k === EXEC && xd) return false;
    return true;
  }
  if (k === EXEC) return !xd && !(us && o.smep);
  if (us && o.smap && !ac) return false;
  if (k & WRITE && o.wp && !rw) return false;
  return true;
}

describe('x86 walker: access rights (SDM §4.6), every combination', () => {
  for (const format of ['ia32', 'pae', 'x86-64'] as const) {
    it(`${format}: R/W, U/S${format === 'ia32' ? '' : ', XD'} at the directory and the leaf × WP × SMEP × SMAP × AC × mode × access`, () => {
      const s = new X86Space(format);
      const frame = s.table();
      const withXd = format !== 'ia32';
      const span = format === 'ia32' ? 4 * MiB : 2 * MiB; // one directory entry per combination
      const combos: { va: number; rw: boolean; us: boolean; xd: boolean }[] = [];
      for (let c = 0; c < (withXd ? 64 : 16); c++) {
        const bit = (i: number) => ((c >> i) & 1) === 1;
        const va = (c + 1) * span;
        const dir = P | (bit(0) ? RW : 0n) | (bit(1) ? US : 0n) | (bit(4) ? XD : 0n);
        const leaf = P | A | D | (bit(2) ? RW : 0n) | (bit(3) ? US : 0n) | (bit(5) ? XD : 0n) | BigInt(frame);
        s.write(s.slot(va, 1), BigInt(s.table()) | dir);
        s.map(va, 0, leaf);
        combos.push({ va, rw: bit(0) && bit(2), us: bit(1) && bit(3), xd: bit(4) || bit(5) });
      }
      let checked = 0;
      for (let o = 0; o < 8; o++) {
        const opts = { wp: (o & 1) !== 0, smep: (o & 2) !== 0, smap: (o & 4) !== 0 };
        const w = createWalker(format, s.mem, opts);
        for (const c of combos) {
          for (const k of [READ, WRITE, RMW, EXEC]) {
            for (const user of [0, USER]) {
              for (const ac of [false, true]) {
                const access = k | user;
                w.flushAll();
                const got = w.translate(s.root, c.va + 0x10, access, { sum: ac });
                if (sdmAllows(c.rw, c.us, c.xd, access, opts, ac)) {
                  expect(got, `${format} ${JSON.stringify({ c, opts, access, ac })}`).toBe(frame + 0x10);
                  expect(w.translate(s.root, c.va + 0x10, access, { sum: ac })).toBe(frame + 0x10);
                } else {
                  expect(got, `${format} ${JSON.stringify({ c, opts, access, ac })}`).toBe(FaultCode.PROTECTION);
                  const id = k === EXEC && (opts.smep || withXd) ? EC_ID : 0;
                  expect(w.fault).toMatchObject({
                    cause: 14,
                    code: EC_P | (k & WRITE ? EC_WR : 0) | (user ? EC_US : 0) | id,
                    va: c.va + 0x10,
                    level: 0,
                    kind: 'permission',
                  });
                }
                checked++;
              }
            }
          }
        }
      }
      expect(checked).toBe(combos.length * 8 * 4 * 2 * 2);
    });
  }
});

describe('x86 walker: the fault conditions and page sizes of each format', () => {
  type Row = {
    name: string;
    format: X86Format;
    options?: X86WalkerOptions;
    build: (s: X86Space, frame: number) => void;
    va?: number;
    access?: number;
    cause?: number;
    code: number; // the error code for a supervisor read; W/R, U/S and I/D are added per access below
    level: number;
    kind: string;
    result: number;
  };
  const VA = 0x40_3000; // ia32: PDE 1, PTE 3; PAE: PDPTE 0, PDE 2, PTE 3; 4-level: 0, 0, 2, 3
  const NP = FaultCode.NOT_MAPPED;
  const RSV = FaultCode.BAD_ADDRESS;
  const rows: Row[] = [
    { name: 'PDE not present', format: 'ia32', build: () => {}, code: 0, level: 1, kind: 'invalid', result: NP },
    { name: 'PTE not present', format: 'ia32', build: (s, f) => s.map(VA, 0, BigInt(f) | RW), code: 0, level: 0, kind: 'invalid', result: NP },
    { name: '4 MiB PDE, bit 21 set (reserved)', format: 'ia32', build: (s) => s.map(VA, 1, 0x40_0000n | (1n << 21n) | P | PS), code: EC_P | EC_RSVD, level: 1, kind: 'reserved', result: RSV },
    {
      name: '4 MiB PDE, PSE-36 bit 17 above MAXPHYADDR 36',
      format: 'ia32',
      build: (s) => s.map(VA, 1, 0x40_0000n | (1n << 17n) | P | PS),
      code: EC_P | EC_RSVD,
      level: 1,
      kind: 'reserved',
      result: RSV,
    },
    { name: 'PAE PDPTE not present', format: 'pae', build: () => {}, code: 0, level: 2, kind: 'invalid', result: NP },
    { name: 'PAE PDE not present', format: 'pae', build: (s) => s.slot(VA, 1), code: 0, level: 1, kind: 'invalid', result: NP },
    ...[1n, 2n, 5n, 8n, 36n, 52n, 63n].map(
      (bit): Row => ({
        name: `PAE PDPTE reserved bit ${bit} → #GP(0)`,
        format: 'pae',
        build: (s) => s.write(s.root, BigInt(s.table()) | P | (1n << bit)),
        cause: 13,
        code: 0,
        level: 2,
        kind: 'reserved',
        result: RSV,
      }),
    ),
    ...[36n, 51n, 62n].map(
      (bit): Row => ({
        name: `PAE PDE reserved bit ${bit} (62:MAXPHYADDR 36)`,
        format: 'pae',
        build: (s) => s.write(s.slot(VA, 1), BigInt(s.table()) | P | RW | (1n << bit)),
        code: EC_P | EC_RSVD,
        level: 1,
        kind: 'reserved',
        result: RSV,
      }),
    ),
    { name: 'PAE PTE XD without NXE (reserved)', format: 'pae', options: { nxe: false }, build: (s, f) => s.map(VA, 0, BigInt(f) | P | XD), code: EC_P | EC_RSVD, level: 0, kind: 'reserved', result: RSV },
    { name: 'PAE 2 MiB PDE bit 13 (reserved)', format: 'pae', build: (s) => s.map(VA, 1, 0x20_0000n | (1n << 13n) | P | PS), code: EC_P | EC_RSVD, level: 1, kind: 'reserved', result: RSV },
    { name: 'PAE 2 MiB PDE bit 20 (reserved)', format: 'pae', build: (s) => s.map(VA, 1, 0x20_0000n | (1n << 20n) | P | PS), code: EC_P | EC_RSVD, level: 1, kind: 'reserved', result: RSV },
    { name: '4-level PML4E not present', format: 'x86-64', build: () => {}, code: 0, level: 3, kind: 'invalid', result: NP },
    { name: '4-level PDPTE not present', format: 'x86-64', build: (s) => s.slot(VA, 2), code: 0, level: 2, kind: 'invalid', result: NP },
    { name: '4-level PML4E with PS (reserved)', format: 'x86-64', build: (s) => s.write(s.slot(VA, 3), BigInt(s.table()) | P | RW | PS), code: EC_P | EC_RSVD, level: 3, kind: 'reserved', result: RSV },
    {
      name: '4-level 1 GiB PDPTE bit 13 (reserved)',
      format: 'x86-64',
      build: (s) => s.map(VA, 2, (1n << 13n) | P | PS),
      code: EC_P | EC_RSVD,
      level: 2,
      kind: 'reserved',
      result: RSV,
    },
    {
      name: '4-level 1 GiB PDPTE bit 29 (reserved)',
      format: 'x86-64',
      build: (s) => s.map(VA, 2, (1n << 29n) | P | PS),
      code: EC_P | EC_RSVD,
      level: 2,
      kind: 'reserved',
      result: RSV,
    },
    {
      name: '4-level PDPTE with PS, no 1 GiB pages (reserved)',
      format: 'x86-64',
      options: { gbPages: false },
      build: (s) => s.map(VA, 2, P | PS),
      code: EC_P | EC_RSVD,
      level: 2,
      kind: 'reserved',
      result: RSV,
    },
    { name: '4-level 2 MiB PDE bit 16 (reserved)', format: 'x86-64', build: (s) => s.map(VA, 1, (1n << 16n) | P | PS), code: EC_P | EC_RSVD, level: 1, kind: 'reserved', result: RSV },
    {
      name: '4-level PTE address bit 40 above MAXPHYADDR 40',
      format: 'x86-64',
      options: { maxPhysAddr: 40 },
      build: (s, f) => s.map(VA, 0, BigInt(f) | (1n << 40n) | P),
      code: EC_P | EC_RSVD,
      level: 0,
      kind: 'reserved',
      result: RSV,
    },
    {
      name: '4-level PML4E address bit 51 (MAXPHYADDR 48)',
      format: 'x86-64',
      build: (s) => s.write(s.slot(VA, 3), BigInt(s.table()) | P | RW | (1n << 51n)),
      code: EC_P | EC_RSVD,
      level: 3,
      kind: 'reserved',
      result: RSV,
    },
    { name: '4-level PDE XD without NXE (reserved)', format: 'x86-64', options: { nxe: false }, build: (s) => s.write(s.slot(VA, 1), BigInt(s.table()) | P | RW | XD), code: EC_P | EC_RSVD, level: 1, kind: 'reserved', result: RSV },
    { name: 'non-canonical 2^47 → #GP(0)', format: 'x86-64', build: () => {}, va: 2 ** 47, cause: 13, code: 0, level: -1, kind: 'non-canonical', result: FaultCode.NON_CANONICAL },
    { name: 'non-canonical -2^47 - 4096 → #GP(0)', format: 'x86-64', build: () => {}, va: -(2 ** 47) - 4096, cause: 13, code: 0, level: -1, kind: 'non-canonical', result: FaultCode.NON_CANONICAL },
    { name: 'a PTE outside RAM → #MC', format: 'x86-64', build: (s) => s.write(s.slot(VA, 1), 0x4000_0000n | P | RW), cause: 18, code: 0, level: 0, kind: 'pte-access', result: RSV },
    { name: 'a PDE outside RAM → #MC', format: 'ia32', build: (s) => s.write(s.root + 4, 0x4000_0000n | P | RW), cause: 18, code: 0, level: 0, kind: 'pte-access', result: RSV },
  ];

  for (const row of rows) {
    for (const access of row.access === undefined ? [READ, WRITE | USER, EXEC] : [row.access]) {
      it(`${row.format}: ${row.name} (access ${access})`, () => {
        const s = new X86Space(row.format);
        const w = createWalker(row.format, s.mem, row.options);
        const frame = s.table();
        row.build(s, frame);
        const va = row.va ?? VA;
        const got = w.translate(s.root, va, access);
        expect(got).toBe(row.result);
        const pf = (row.cause ?? 14) === 14;
        const nx = row.format !== 'ia32' && row.options?.nxe !== false;
        const code = pf ? row.code | (access & WRITE ? EC_WR : 0) | (access & USER ? EC_US : 0) | ((access & 7) === EXEC && nx ? EC_ID : 0) : row.code;
        expect(w.fault).toMatchObject({ cause: row.cause ?? 14, code, va, level: row.level, kind: row.kind, result: got });
      });
    }
  }

  it('PAE: loadCr3 checks the PDPTEs as MOV to CR3 does (#GP, nothing changes)', () => {
    const s = new X86Space('pae');
    const w = createWalker('pae', s.mem);
    s.write(s.root + 8, BigInt(s.table()) | P);
    expect(w.loadCr3(s.root)).toBe(0);
    s.write(s.root + 16, BigInt(s.table()) | P | RW);
    expect(w.loadCr3(s.root)).toBe(FaultCode.BAD_ADDRESS);
    expect(w.fault).toMatchObject({ cause: 13, code: 0, level: 2, kind: 'reserved' });
    // A not-present PDPTE's other bits are software's.
    s.write(s.root + 16, 0xffff_fffen);
    expect(w.loadCr3(s.root)).toBe(0);
    expect(w.stats().flushes).toBe(2);
  });

  it('32-bit paging: 4 MiB pages with CR4.PSE, PSE-36 high address bits; PS ignored without PSE', () => {
    const s = new X86Space('ia32');
    const w = createWalker('ia32', s.mem);
    s.map(0x80_0000, 1, 0x0140_0000n | P | RW | PS); // 4 MiB at 0x0140_0000
    expect(w.translate(s.root, 0x81_2345, WRITE)).toBe(0x0141_2345);
    s.map(0xc000_0000, 1, 0x0080_0000n | (0x5n << 13n) | P | PS); // PA bits 35:32 = 5
    expect(w.translate(s.root, 0xc03f_fffc, READ)).toBe(5 * 2 ** 32 + 0x00bf_fffc);
    expect(w.translate(s.root, 0xc03f_fffc, READ)).toBe(5 * 2 ** 32 + 0x00bf_fffc);
    // With MAXPHYADDR 40, bits 20:13 are all address bits.
    const w40 = createWalker('ia32', s.mem, { maxPhysAddr: 40 });
    s.map(0xc040_0000, 1, 0x0080_0000n | (0xa5n << 13n) | P | PS);
    expect(w40.translate(s.root, 0xc040_0004, READ)).toBe(0xa5 * 2 ** 32 + 0x0080_0004);
    // Without PSE the PDE is a pointer whatever PS says.
    const noPse = createWalker('ia32', s.mem, { pse: false });
    const frame = s.table();
    const pt = s.table();
    s.write(s.slot(0x100_0000, 1), BigInt(pt) | P | RW | PS);
    s.write(pt + 5 * 4, BigInt(frame) | P);
    expect(noPse.translate(s.root, 0x100_5008, READ)).toBe(frame + 8);
    // With PSE the same PDE is a 4 MiB page: bits 31:22 and (PSE-36) 16:13 of it are the address.
    expect(pt).toBeLessThan(0x0102_0000); // bits 21:17 clear, so no reserved bit
    expect(w.translate(s.root, 0x100_5008, READ)).toBe(((pt >>> 13) & 0xf) * 2 ** 32 + (pt & 0xffc0_0000) + 0x5008);
  });

  it('PAE: 2 MiB pages, addresses above 4 GiB, the PDPTE chosen by bits 31:30', () => {
    const s = new X86Space('pae');
    const w = createWalker('pae', s.mem);
    s.map(0xc020_0000, 1, 0x8_0060_0000n | P | RW | PS);
    expect(w.translate(s.root, 0xc02a_bcde, READ)).toBe(0x8_006a_bcde);
    expect(s.read(s.root + 3 * 8) & P).toBe(P);
    const frame = s.table();
    s.map(0x4000_1000, 0, BigInt(frame) | P);
    expect(w.translate(s.root, 0x4000_1ffc | 0, READ)).toBe(frame + 0xffc);
  });

  it('4-level: 1 GiB and 2 MiB pages, the upper half, bits 62:52 ignored', () => {
    const s = new X86Space('x86-64');
    const w = createWalker('x86-64', s.mem);
    s.map(0x40_0000_0000, 2, 0x80_4000_0000n | P | RW | PS);
    expect(w.translate(s.root, 0x40_1234_5678, WRITE)).toBe(0x80_5234_5678);
    s.map(-(2 ** 31), 1, 0x20_0000n | P | RW | PS | G);
    expect(w.translate(s.root, -(2 ** 31) + 0x1_0010, READ)).toBe(0x21_0010);
    expect((s.read(s.root + 511 * 8) & P) === P).toBe(true);
    const frame = s.table();
    s.map(0x5000, 0, BigInt(frame) | P | (0x7ffn << 52n));
    expect(w.translate(s.root, 0x5004, READ)).toBe(frame + 4);
  });

  it('A is set in every entry used, A/D in the leaf on an allowed access only, the rest of the entry kept', () => {
    for (const format of ['ia32', 'pae', 'x86-64'] as const) {
      const s = new X86Space(format);
      const w = createWalker(format, s.mem);
      const frame = s.table();
      const leaf = s.map(0x40_3000, 0, BigInt(frame) | P | RW | US | (1n << 9n));
      const pointers = [];
      for (let l = 1; l < s.levels; l++) if (!(format === 'pae' && l === 2)) pointers.push(s.slot(0x40_3000, l));
      for (const p of pointers) expect(s.read(p) & A).toBe(0n);
      expect(w.translate(s.root, 0x40_3000, READ | USER)).toBe(frame);
      for (const p of pointers) expect(s.read(p) & A).toBe(A);
      expect(s.read(leaf)).toBe(BigInt(frame) | P | RW | US | (1n << 9n) | A);
      expect(w.translate(s.root, 0x40_3000, WRITE | USER)).toBe(frame);
      expect(s.read(leaf)).toBe(BigInt(frame) | P | RW | US | (1n << 9n) | A | D);
      const ro = s.map(0x40_4000, 0, BigInt(frame) | P | US);
      expect(w.translate(s.root, 0x40_4000, WRITE | USER)).toBe(FaultCode.PROTECTION);
      expect(s.read(ro)).toBe(BigInt(frame) | P | US);
    }
  });

  it('arguments: junk is refused with EINVAL', () => {
    const s = new X86Space('x86-64');
    const w = createWalker('x86-64', s.mem);
    const ia = createWalker('ia32', s.mem);
    const bad: (() => unknown)[] = [
      () => w.translate(s.root, 0.5, READ),
      () => w.translate(s.root, 2 ** 64, READ),
      () => w.translate(s.root, 0, 6),
      () => w.translate(s.root + 32, 0, READ),
      () => w.translate(s.root, 0, READ, { asid: 1 }), // a PCID without PCIDE
      () => ia.translate(s.root, 2 ** 32, READ),
      () => ia.translate(s.root, 0, READ, { asid: 1 }),
      () => w.loadCr3(s.root, { noflush: true }),
      () => w.loadCr3(s.root, { pcid: 1 }),
      () => w.invlpg(Number.NaN),
      () => createWalker('x86-64', s.mem, { maxPhysAddr: 53 }),
      () => createWalker('ia32', s.mem, { pcide: true }),
      () => createWalker('x86-64', s.mem, { wp: 1 as unknown as boolean }),
      () => createWalker('x86-64', s.mem, { pcide: true }).translate(s.root, 0, READ, { asid: 4096 }),
    ];
    for (const call of bad) {
      expect(call).toThrow(VmError);
      try {
        call();
      } catch (e) {
        expect((e as VmError).code).toBe('EINVAL');
      }
    }
    // A non-canonical INVLPG is a no-op, not an error.
    expect(() => w.invlpg(2 ** 50)).not.toThrow();
  });
});
