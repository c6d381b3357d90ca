/*
 * The AArch64 walker against the Arm ARM (VMSAv8-64 stage 1, EL1&0, 4 KiB granule): descriptors, access permissions,
 * the Access flag and dirty state, fault syndromes and TLB maintenance. Every descriptor is encoded by hand here from
 * the manual's descriptor figures, never with the package's encoders: bit 0 valid, bit 1 table (levels 0–2) / page
 * (level 3), clear = block (levels 1–2); AttrIndx 4:2, NS 5, AP[2:1] 7:6, SH 9:8, AF 10, nG 11, output address
 * 47:12, DBM 51, Contiguous 52, PXN 53, UXN 54; tables: PXNTable 59, UXNTable 60, APTable 62:61, NSTable 63. The
 * ESR syndromes are ESR_ELx's: EC 31:26, IL 25, ISS with the DFSC/IFSC in 5:0 and WnR at 6.
 */
import { Access, FaultCode, PhysicalMemory, VmError, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createWalker } from '../src/walk/create-walker.js';
import type { Aarch64WalkerOptions } from '../src/walk/aarch64.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RAM = 0x4000_0000;
const { READ, WRITE, EXEC, USER } = Access;
const RMW = READ | WRITE;

const VALID = 1n << 0n;
const TABLE = 1n << 1n; // also "page" at level 3
const AP1 = 1n << 6n; // AP[1]: EL0 access
const AP2 = 1n << 7n; // AP[2]: read-only
const AF = 1n << 10n;
const NG = 1n << 11n;
const DBM = 1n << 51n;
const PXN = 1n << 53n;
const UXN = 1n << 54n;
const PXN_TABLE = 1n << 59n;
const UXN_TABLE = 1n << 60n;
const AP_TABLE0 = 1n << 61n; // no EL0 access below
const AP_TABLE1 = 1n << 62n; // no write access below

// ESR_ELx: exception classes and fault status codes.
const EC = { iabtLower: 0x20, iabtSame: 0x21, dabtLower: 0x24, dabtSame: 0x25 };
const FSC = { addressSize: 0b000000, translation: 0b000100, accessFlag: 0b001000, permission: 0b001100, walkAbort: 0b010100 };
const esr = (access: number, fsc: number, armLevel: number) => {
  const k = access & 7;
  const user = (access & USER) !== 0;
  const ec = k === EXEC ? (user ? EC.iabtLower : EC.iabtSame) : user ? EC.dabtLower : EC.dabtSame;
  return ec * 2 ** 26 + 2 ** 25 + (fsc | armLevel) + (k !== EXEC && (k & WRITE) !== 0 ? 1 << 6 : 0);
};

/** Tables by hand. Levels are the manual's: 0 (the 48-bit root) … 3 (pages). */
class A64Space {
  readonly mem = new PhysicalMemory(boards.ram(64 * MiB, RAM));
  private next = RAM;
  readonly root: number;
  readonly ttbr1: number;
  constructor(readonly startLevel = 0) {
    this.root = this.table();
    this.ttbr1 = this.table();
  }
  table(): number {
    const t = this.next;
    this.next += 4096;
    return t;
  }
  /** The low words of every descriptor of every table made so far (to see that a fault wrote nothing). */
  snapshot(): number[] {
    const out: number[] = [];
    for (let t = RAM; t < this.next; t += 4096) for (let i = 0; i < 512; i++) out.push(this.mem.read32(t + i * 8));
    return out;
  }
  write(addr: number, v: bigint): void {
    this.mem.write32(addr, Number(v & 0xffff_ffffn));
    this.mem.write32(addr + 4, Number(v >> 32n));
  }
  read(addr: number): bigint {
    return BigInt(this.mem.read32(addr)) | (BigInt(this.mem.read32(addr + 4)) << 32n);
  }
  index(va: number, level: number): number {
    return Number((BigInt.asUintN(64, BigInt(va)) >> BigInt(12 + 9 * (3 - level))) & 511n);
  }
  /** The descriptor address for `va` at `level`, making table descriptors (with `bits`) on the way. */
  slot(va: number, level: number, bits: bigint = 0n, root = this.root): number {
    let t = va < 0 ? this.ttbr1 : root;
    for (let l = this.startLevel; ; l++) {
      const addr = t + this.index(va, l) * 8;
      if (l === level) return addr;
      let e = this.read(addr);
      if ((e & VALID) === 0n) {
        e = BigInt(this.table()) | VALID | TABLE | bits;
        this.write(addr, e);
      }
      t = Number(e & 0xffff_ffff_f000n);
    }
  }
  map(va: number, level: number, v: bigint, tableBits?: bigint, root = this.root): number {
    const addr = this.slot(va, level, tableBits, root);
    this.write(addr, v);
    return addr;
  }
}
const page = (pa: number, bits: bigint) => BigInt(pa) | VALID | TABLE | bits;
const block = (pa: number, bits: bigint) => BigInt(pa) | VALID | bits;

/**
 * The manual's stage 1 EL1&0 permission check written out (PSTATE.PAN = 0): AP[2:1] 00 EL1 RW / EL0 none, 01 RW/RW,
 * 10 RO/none, 11 RO/RO; APTable[0] takes EL0 access away, APTable[1] write access; EL0 executes without UXN or
 * UXNTable (no read permission needed), EL1 without PXN or PXNTable and never memory EL0 may write; WXN: writable
 * memory executes at neither level. With HD a DBM page is writable (its AP[2] is cleared by the write).
 */
function allowed(
  d: { ap2: boolean; ap1: boolean; dbm: boolean; pxn: boolean; uxn: boolean; apt0: boolean; apt1: boolean; pxnt: boolean; uxnt: boolean },
  access: number,
  o: { hd: boolean; wxn: boolean },
): boolean {
  const user = (access & USER) !== 0;
  const k = access & 7;
  const el0 = d.ap1 && !d.apt0;
  const w = !d.apt1 && (!d.ap2 || (o.hd && d.dbm));
  const userW = el0 && w;
  if (k === EXEC) {
    if (user) return !d.uxn && !d.uxnt && !(o.wxn && userW);
    return !d.pxn && !d.pxnt && !userW && !(o.wxn && w);
  }
  if (user && !el0) return false;
  if (k & WRITE && !w) return false;
  return true;
}

describe('aarch64 walker: access permissions, every combination', () => {
  it('AP[2:1] × DBM × PXN × UXN × APTable × PXNTable × UXNTable × HD × WXN × EL0/EL1 × read/write/RMW/fetch', () => {
    const s = new A64Space();
    const frame = RAM + 32 * MiB;
    type Combo = { va: number; addr: number; desc: bigint; d: Parameters<typeof allowed>[0] };
    const combos: Combo[] = [];
    for (let c = 0; c < 512; c++) {
      const bit = (i: number) => ((c >> i) & 1) === 1;
      const d = { ap1: bit(0), ap2: bit(1), dbm: bit(2), pxn: bit(3), uxn: bit(4), apt0: bit(5), apt1: bit(6), pxnt: bit(7), uxnt: bit(8) };
      // One level-2 table descriptor (with the table controls) per combination: each in its own 2 MiB.
      const va = GiB + c * 2 * MiB;
      const tbits = (d.apt0 ? AP_TABLE0 : 0n) | (d.apt1 ? AP_TABLE1 : 0n) | (d.pxnt ? PXN_TABLE : 0n) | (d.uxnt ? UXN_TABLE : 0n);
      s.write(s.slot(va, 2), BigInt(s.table()) | VALID | TABLE | tbits);
      const desc = page(frame, AF | (d.ap1 ? AP1 : 0n) | (d.ap2 ? AP2 : 0n) | (d.dbm ? DBM : 0n) | (d.pxn ? PXN : 0n) | (d.uxn ? UXN : 0n));
      const addr = s.map(va, 3, desc);
      combos.push({ va, addr, desc, d });
    }
    let checked = 0;
    for (const hd of [false, true]) {
      for (const wxn of [false, true]) {
        const o = { hd, wxn };
        const w = createWalker('aarch64', s.mem, { ha: true, hd, wxn });
        for (const c of combos) {
          for (const k of [READ, WRITE, RMW, EXEC]) {
            for (const user of [0, USER]) {
              const access = k | user;
              // The descriptor as built (a write through a DBM page clears AP[2] in RAM).
              s.write(c.addr, c.desc);
              w.tlbiVmalle1();
              const got = w.translate(s.root, c.va + 0x18, access);
              const what = JSON.stringify({ d: c.d, o, access });
              if (allowed(c.d, access, o)) {
                expect(got, what).toBe(frame + 0x18);
                const after = s.read(c.addr);
                // HD: a write to a writable-clean page (DBM, AP[2] set) clears AP[2]; nothing else changes.
                const dirtied = (k & WRITE) !== 0 && c.d.ap2;
                expect(after, what).toBe(dirtied ? c.desc & ~AP2 : c.desc);
              } else {
                expect(got, what).toBe(FaultCode.PROTECTION);
                const clean = !hd && (k & WRITE) !== 0 && c.d.dbm && c.d.ap2 && allowed({ ...c.d, ap2: false }, access, o);
                expect(w.fault, what).toMatchObject({ kind: clean ? 'dirty' : 'permission', level: 0, code: esr(access, FSC.permission, 3), va: c.va + 0x18 });
                expect(s.read(c.addr), what).toBe(c.desc);
              }
              checked++;
            }
          }
        }
      }
    }
    expect(checked).toBe(512 * 4 * 8);
  });
});

describe('aarch64 walker: fault conditions, with the exact ESR', () => {
  const frame = RAM + 32 * MiB;
  const VA = 0x40_0000_3000; // level 0 index 0, level 1 index 256, level 2 0, level 3 3
  type Row = {
    name: string;
    options?: Aarch64WalkerOptions;
    start?: number;
    build: (s: A64Space) => void;
    va?: number;
    ttbr1?: boolean;
    kind: string;
    fsc: number;
    armLevel: number;
    level: number;
    result: number;
    /** Accesses the descriptor allows (they translate instead of faulting). */
    allows?: (access: number) => boolean;
  };
  const TR = FaultCode.NOT_MAPPED;
  const BAD = FaultCode.BAD_ADDRESS;
  const PR = FaultCode.PROTECTION;
  const rows: Row[] = [
    ...[0, 1, 2, 3].map(
      (l): Row => ({
        name: `invalid descriptor at level ${l}`,
        build: (s) => {
          if (l > 0) s.slot(VA, l);
        },
        kind: 'invalid',
        fsc: FSC.translation,
        armLevel: l,
        level: 3 - l,
        result: TR,
      }),
    ),
    { name: 'block descriptor at level 0 (reserved with the 4 KiB granule)', build: (s) => s.map(VA, 0, block(0, AF)), kind: 'reserved', fsc: FSC.translation, armLevel: 0, level: 3, result: BAD },
    {
      name: 'level 3 descriptor with bit 1 clear (reserved)',
      build: (s) => s.map(VA, 3, block(frame, AF)),
      kind: 'reserved',
      fsc: FSC.translation,
      armLevel: 3,
      level: 0,
      result: BAD,
    },
    {
      name: 'table descriptor with bit 48 set: Address size fault at its level',
      build: (s) => s.map(VA, 1, BigInt(s.table()) | VALID | TABLE | (1n << 48n)),
      kind: 'address-size',
      fsc: FSC.addressSize,
      armLevel: 1,
      level: 2,
      result: BAD,
    },
    {
      name: 'table descriptor pointing at or above IPS (40 bits)',
      options: { ips: 40 },
      build: (s) => s.map(VA, 2, (1n << 40n) | VALID | TABLE),
      kind: 'address-size',
      fsc: FSC.addressSize,
      armLevel: 2,
      level: 1,
      result: BAD,
    },
    {
      name: 'page output address at or above IPS (36 bits)',
      options: { ips: 36 },
      build: (s) => s.map(VA, 3, page(2 ** 36, AF)),
      kind: 'address-size',
      fsc: FSC.addressSize,
      armLevel: 3,
      level: 0,
      result: BAD,
    },
    {
      name: '2 MiB block with bit 49 set',
      build: (s) => s.map(VA, 2, block(0x4020_0000, AF | (1n << 49n))),
      kind: 'address-size',
      fsc: FSC.addressSize,
      armLevel: 2,
      level: 1,
      result: BAD,
    },
    ...[1, 2, 3].map(
      (l): Row => ({
        name: `Access flag clear at level ${l} without HA`,
        options: { ha: false, hd: false },
        build: (s) => s.map(VA, l, l === 3 ? page(frame, AP1) : block(l === 1 ? 0 : 0x4000_0000, AP1)),
        kind: 'accessed',
        fsc: FSC.accessFlag,
        armLevel: l,
        level: 3 - l,
        result: PR,
      }),
    ),
    {
      name: 'Access flag clear on a page no access may use, without HA: the Access flag fault comes first',
      options: { ha: false, hd: false },
      build: (s) => s.map(VA, 3, page(frame, AP2 | PXN | UXN), APTable0Bits()),
      kind: 'accessed',
      fsc: FSC.accessFlag,
      armLevel: 3,
      level: 0,
      result: PR,
    },
    ...[1, 2, 3].map(
      (l): Row => ({
        name: `Permission fault at level ${l} (AP[2:1] = 10: EL1 read-only, no EL0 access, PXN and UXN)`,
        build: (s) => s.map(VA, l, (l === 3 ? page(frame, 0n) : block(l === 1 ? 0 : 0x4000_0000, 0n)) | AF | AP2 | PXN | UXN),
        kind: 'permission',
        fsc: FSC.permission,
        armLevel: l,
        level: 3 - l,
        result: PR,
        allows: (access) => access === READ,
      }),
    ),
    {
      name: 'address above TTBR0\'s 48-bit range: level 0 Translation fault',
      build: () => {},
      va: 2 ** 48,
      kind: 'non-canonical',
      fsc: FSC.translation,
      armLevel: 0,
      level: -1,
      result: FaultCode.NON_CANONICAL,
    },
    {
      name: 'address below TTBR1\'s 48-bit range: level 0 Translation fault',
      build: () => {},
      va: -(2 ** 48) - 4096,
      ttbr1: true,
      kind: 'non-canonical',
      fsc: FSC.translation,
      armLevel: 0,
      level: -1,
      result: FaultCode.NON_CANONICAL,
    },
    {
      name: 'T0SZ = 25: an address at 2^39 is outside TTBR0\'s range',
      options: { t0sz: 25 },
      start: 1,
      build: () => {},
      va: 2 ** 39,
      kind: 'non-canonical',
      fsc: FSC.translation,
      armLevel: 0,
      level: -1,
      result: FaultCode.NON_CANONICAL,
    },
    {
      name: 'TTBR1 half with TCR.EPD1 (no TTBR1 given): level 0 Translation fault',
      build: () => {},
      va: -4096,
      kind: 'invalid',
      fsc: FSC.translation,
      armLevel: 0,
      level: -1,
      result: TR,
    },
    {
      name: 'level 3 table outside RAM: synchronous external abort on the walk at level 3',
      build: (s) => s.map(VA, 2, BigInt(0x1000_0000) | VALID | TABLE),
      kind: 'pte-access',
      fsc: FSC.walkAbort,
      armLevel: 3,
      level: 0,
      result: BAD,
    },
  ];
  function APTable0Bits(): bigint {
    return AP_TABLE0 | AP_TABLE1 | PXN_TABLE | UXN_TABLE;
  }
  for (const row of rows) {
    it(row.name, () => {
      const s = new A64Space(row.start ?? 0);
      row.build(s);
      const w = createWalker('aarch64', s.mem, row.options);
      const va = (row.va ?? VA) + 8;
      for (const k of [READ, WRITE, RMW, EXEC]) {
        for (const user of [0, USER]) {
          const access = k | user;
          const snapshot = s.snapshot();
          const got = w.translate(s.root, va, access, row.ttbr1 ? { ttbr1: s.ttbr1 } : undefined);
          if (row.allows?.(access) === true) {
            expect(got, `${row.name} access ${access}`).toBeGreaterThanOrEqual(0);
            continue;
          }
          expect(got, `${row.name} access ${access}`).toBe(row.result);
          expect(w.fault).toMatchObject({
            kind: row.kind,
            level: row.level,
            va,
            access,
            cause: esr(access, 0, 0) >>> 26,
            code: esr(access, row.fsc, row.armLevel),
          });
          // A fault writes nothing.
          expect(s.snapshot()).toEqual(snapshot);
        }
      }
    });
  }

  it('ESR_EL1.EC: instruction abort 0x20 from EL0, 0x21 from EL1; data abort 0x24 / 0x25; WnR on writes only', () => {
    const s = new A64Space();
    const w = createWalker('aarch64', s.mem);
    const cases: [number, number, number][] = [
      [EXEC | USER, 0x20, 0],
      [EXEC, 0x21, 0],
      [READ | USER, 0x24, 0],
      [READ, 0x25, 0],
      [WRITE | USER, 0x24, 1],
      [RMW, 0x25, 1],
    ];
    for (const [access, ec, wnr] of cases) {
      expect(w.translate(s.root, 0x1000, access)).toBe(FaultCode.NOT_MAPPED);
      expect(w.fault.cause).toBe(ec);
      expect(w.fault.code).toBe(ec * 2 ** 26 + 2 ** 25 + (wnr << 6) + 0b000100);
    }
  });
});

describe('aarch64 walker: blocks, halves, the Access flag and the dirty state', () => {
  it('1 GiB and 2 MiB blocks, 4 KiB pages; a block\'s low output-address bits are ignored', () => {
    const s = new A64Space();
    s.map(GiB, 1, block(0x80_0000_0000, AF));
    s.map(2 * GiB + 4 * MiB, 2, block(0x1234_4000_0000 + 2 * MiB, AF));
    s.map(3 * GiB + 0x5000, 3, page(0xab_cdef_0000, AF));
    // Bits 29:12 of a 1 GiB block's output address: RES0, the address composition takes them from the VA.
    s.map(4 * GiB, 1, block(0x80_4000_0000 + 0x1234_5000, AF));
    const w = createWalker('aarch64', s.mem);
    expect(w.translate(s.root, GiB + 0x3456_789a, READ)).toBe(0x80_3456_789a);
    expect(w.translate(s.root, 2 * GiB + 4 * MiB + 0x1f_fff8, READ)).toBe(0x1234_4000_0000 + 2 * MiB + 0x1f_fff8);
    expect(w.translate(s.root, 3 * GiB + 0x5abc, READ)).toBe(0xab_cdef_0abc);
    expect(w.translate(s.root, 4 * GiB + 0x10, READ)).toBe(0x80_4000_0010);
  });

  it('TTBR1: negative addresses walk from options.ttbr1 (−4096 is index 511 at every level); TTBR0 from root', () => {
    const s = new A64Space();
    s.map(-4096, 3, page(0x5000_0000, AF));
    s.map(4096, 3, page(0x6000_0000, AF));
    const w = createWalker('aarch64', s.mem);
    expect(w.translate(s.root, -4096 + 0x10, READ, { ttbr1: s.ttbr1 })).toBe(0x5000_0010);
    expect(w.translate(s.root, 4096 + 0x10, READ, { ttbr1: s.ttbr1 })).toBe(0x6000_0010);
    expect((s.slot(-4096, 0) - s.ttbr1) / 8).toBe(511);
  });

  it('T0SZ = T1SZ = 25: three levels from level 1, a 1 GiB block at the start level, both 39-bit halves', () => {
    const s = new A64Space(1);
    s.map(GiB, 1, block(0x40_0000_0000, AF));
    s.map(-(2 ** 39), 3, page(0x7000_0000, AF));
    s.map(2 ** 39 - 4096, 3, page(0x7100_0000, AF));
    const w = createWalker('aarch64', s.mem, { t0sz: 25 });
    expect(w.translate(s.root, GiB + 0x1234, READ)).toBe(0x40_0000_1234);
    expect(w.translate(s.root, -(2 ** 39) + 8, READ, { ttbr1: s.ttbr1 })).toBe(0x7000_0008);
    expect(w.translate(s.root, 2 ** 39 - 8, READ)).toBe(0x7100_0ff8);
    expect(w.translate(s.root, -(2 ** 39) - 8, READ, { ttbr1: s.ttbr1 })).toBe(FaultCode.NON_CANONICAL);
  });

  it('HA sets AF in RAM on an allowed access only; HD clears AP[2] of a DBM page on a write only', () => {
    const s = new A64Space();
    const frame = RAM + 32 * MiB;
    const desc = page(frame, AP2 | DBM | AP1);
    const addr = s.map(0x1000, 3, desc);
    const w = createWalker('aarch64', s.mem);
    // A fetch from EL1 of a page EL0 may write (after HD) is refused: nothing is set.
    expect(w.translate(s.root, 0x1000, EXEC)).toBe(FaultCode.PROTECTION);
    expect(s.read(addr)).toBe(desc);
    expect(w.translate(s.root, 0x1000, READ | USER)).toBe(frame);
    expect(s.read(addr)).toBe(desc | AF);
    // The clean page was cached without write permission: the write walks and makes it dirty.
    const misses = w.stats().misses;
    expect(w.translate(s.root, 0x1008, WRITE | USER)).toBe(frame + 8);
    expect(w.stats().misses).toBe(misses + 1);
    expect(s.read(addr)).toBe((desc | AF) & ~AP2);
    expect(w.translate(s.root, 0x1010, WRITE | USER)).toBe(frame + 0x10);
    expect(w.stats().misses).toBe(misses + 1);
    // Without HD the same write is a Permission fault (the dirty-state one), and DBM stays the software's.
    s.write(addr, desc | AF);
    const noHd = createWalker('aarch64', s.mem, { hd: false });
    expect(noHd.translate(s.root, 0x1000, WRITE | USER)).toBe(FaultCode.PROTECTION);
    expect(noHd.fault).toMatchObject({ kind: 'dirty', code: esr(WRITE | USER, FSC.permission, 3) });
    expect(s.read(addr)).toBe(desc | AF);
    // Without HA an AF of 0 is an Access flag fault even for an access that would be allowed.
    s.write(addr, desc);
    const noHa = createWalker('aarch64', s.mem, { ha: false, hd: false });
    expect(noHa.translate(s.root, 0x1000, READ)).toBe(FaultCode.PROTECTION);
    expect(noHa.fault).toMatchObject({ kind: 'accessed', code: esr(READ, FSC.accessFlag, 3) });
  });

  it('a denied access with HA sets no AF: the Permission fault comes before the update', () => {
    const s = new A64Space();
    const desc = page(RAM, AP2);
    const addr = s.map(0x2000, 3, desc);
    const w = createWalker('aarch64', s.mem);
    expect(w.translate(s.root, 0x2000, WRITE)).toBe(FaultCode.PROTECTION);
    expect(w.fault.kind).toBe('permission');
    expect(s.read(addr)).toBe(desc);
  });
});

describe('aarch64 walker: TLB maintenance, nG and the ASID', () => {
  const F1 = RAM + 32 * MiB;
  const F2 = RAM + 48 * MiB;
  // Pages whose numbers differ in their low 8 bits; VU in TTBR1's half.
  const VA = 0x10_0000;
  const VB = 0x20_1000;
  const VG = 0x30_2000;
  const VU = -(2 ** 47) - 0x7d000;
  function setup() {
    const s = new A64Space();
    const roots = [s.root, s.table()];
    const map = (f: number) => {
      for (const root of roots) {
        s.map(VA, 3, page(f, AF | NG), 0n, root);
        s.map(VB, 3, page(f + 0x1000, AF | NG), 0n, root);
        s.map(VG, 3, page(f + 0x2000, AF), 0n, root);
      }
      // The TTBR1 half is shared: one global page there.
      s.map(VU, 3, page(f + 0x3000, AF));
    };
    map(F1);
    const w = createWalker('aarch64', s.mem);
    const look = (asid: number, va: number) => w.translate(roots[asid - 1], va, READ, { asid, ttbr1: s.ttbr1 });
    for (const asid of [1, 2]) for (const va of [VA, VB, VG, VU]) look(asid, va);
    map(F2);
    const cached = () => {
      const out: string[] = [];
      for (const asid of [1, 2]) {
        for (const [n, va] of [['A', VA], ['B', VB], ['G', VG], ['U', VU]] as const) if (look(asid, va) < F2) out.push(`${asid}${n}`);
      }
      return out.join(' ');
    };
    return { w, cached };
  }

  it('everything is cached until flushed', () => {
    expect(setup().cached()).toBe('1A 1B 1G 1U 2A 2B 2G 2U');
  });
  it('TLBI VMALLE1 drops everything, global entries too', () => {
    const { w, cached } = setup();
    w.tlbiVmalle1();
    expect(cached()).toBe('');
  });
  it('TLBI VAE1 drops that page for that ASID and its global entries; an upper-half page by its negative address', () => {
    const { w, cached } = setup();
    w.tlbiVae1(VA + 0xfff, 1);
    w.tlbiVae1(VG, 2);
    w.tlbiVae1(VU, 2);
    expect(cached()).toBe('1B 2A 2B');
  });
  it('TLBI ASIDE1 drops the non-global entries of that ASID only', () => {
    const { w, cached } = setup();
    w.tlbiAside1(1);
    expect(cached()).toBe('1G 1U 2A 2B 2G 2U');
  });
  it('TLBI VAAE1 drops that page under every ASID', () => {
    const { w, cached } = setup();
    w.tlbiVaae1(VB);
    expect(cached()).toBe('1A 1G 1U 2A 2G 2U');
  });
  it('pages 2^47 and −2^47 (page numbers ±2^35: the same nibble, told apart by the key\'s extra bit) neither alias nor flush each other', () => {
    const s = new A64Space();
    s.map(2 ** 47, 3, page(F1, AF | NG));
    s.map(-(2 ** 47), 3, page(F2, AF | NG));
    const w = createWalker('aarch64', s.mem);
    const t = (va: number) => w.translate(s.root, va, READ, { ttbr1: s.ttbr1 });
    // Both pages have the same low 32 bits of page number (0: the same slot) and the same nibble (8): a TLB that
    // kept only 36 bits of page number would answer the second from the first's slot.
    expect(t(2 ** 47)).toBe(F1);
    expect(t(-(2 ** 47))).toBe(F2);
    expect(t(2 ** 47)).toBe(F1);
    const hits = w.stats().hits;
    expect(t(2 ** 47)).toBe(F1);
    expect(w.stats().hits).toBe(hits + 1);
    // A flush of the other page leaves this one.
    w.tlbiVaae1(-(2 ** 47));
    expect(w.stats().entries).toBe(1);
    w.tlbiVaae1(2 ** 47);
    expect(w.stats().entries).toBe(0);
  });
  it('a 2 MiB block is flushed whole by any address in it', () => {
    const s = new A64Space();
    s.map(2 * MiB, 2, block(0x4000_0000, AF));
    const w = createWalker('aarch64', s.mem);
    for (const off of [0, 0x1000, 0x1f_f000]) w.translate(s.root, 2 * MiB + off, READ);
    expect(w.stats().entries).toBe(3);
    w.tlbiVaae1(2 * MiB + 0x10_0000);
    expect(w.stats().entries).toBe(0);
  });
  it('8-bit ASIDs (TCR.AS = 0) refuse a wider ASID', () => {
    const s = new A64Space();
    const w = createWalker('aarch64', s.mem, { asidBits: 8 });
    expect(() => w.translate(s.root, 0, READ, { asid: 256 })).toThrow(VmError);
    expect(() => w.tlbiAside1(256)).toThrow(VmError);
    const w16 = createWalker('aarch64', s.mem);
    expect(w16.translate(s.root, 0, READ, { asid: 0xffff })).toBe(FaultCode.NOT_MAPPED);
  });
});

describe('aarch64 walker: arguments', () => {
  const s = new A64Space();
  const w = createWalker('aarch64', s.mem);
  it('bad translate arguments throw EINVAL', () => {
    for (const va of [2 ** 63, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => w.translate(s.root, va, READ)).toThrow(VmError);
    for (const access of [0, 5, 16, USER, 1.5]) expect(() => w.translate(s.root, 0, access)).toThrow(VmError);
    for (const root of [s.root + 8, -4096, 2 ** 48]) expect(() => w.translate(root, 0, READ)).toThrow(VmError);
    for (const asid of [65536, -1, 0.5]) expect(() => w.translate(s.root, 0, READ, { asid })).toThrow(VmError);
    expect(() => w.translate(s.root, -4096, READ, { ttbr1: s.ttbr1 + 8 })).toThrow(VmError);
  });
  it('bad options throw EINVAL', () => {
    for (const t0sz of [15, 40, 1.5]) expect(() => createWalker('aarch64', s.mem, { t0sz })).toThrow(VmError);
    expect(() => createWalker('aarch64', s.mem, { ips: 39 })).toThrow(VmError);
    expect(() => createWalker('aarch64', s.mem, { asidBits: 12 })).toThrow(VmError);
    expect(() => createWalker('aarch64', s.mem, { ha: false, hd: true })).toThrow(VmError);
    expect(() => createWalker('aarch64', s.mem, { wxn: 'yes' as unknown as boolean })).toThrow(VmError);
    expect(() => w.tlbiVae1(0.5, 1)).toThrow(VmError);
  });
});
