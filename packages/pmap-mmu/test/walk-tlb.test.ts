/*
 * The walkers' TLBs against the flush operations the ISAs define: RISC-V `sfence.vma` with and without an address
 * and an ASID (global entries survive any flush naming an ASID), x86 `invlpg` and MOV to CR3 with and without
 * PCID/no-flush, and superpages flushed whole by an address anywhere inside them. A stale entry is how the tests
 * see what is cached: the PTE is rewritten in RAM behind the TLB's back, and a translation that still gives the old
 * frame came from the TLB. PTEs are encoded by hand (Sv39: V 0, R 1, W 2, X 3, U 4, G 5, A 6, D 7, PPN from 10).
 */
import { Access, PhysicalMemory, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createWalker } from '../src/walk/create-walker.js';
import type { X86WalkerOptions } from '../src/walk/x86.js';

const MiB = 1024 * 1024;
const RAM = 0x8000_0000;
const { READ, WRITE } = Access;

// Sv39 PTE bits (privileged spec, Sv39 PTE figure).
const V = 1;
const R = 2;
const W = 4;
const G = 0x20;
const A = 0x40;
const D = 0x80;

/** Sv39 tables by hand: a root, and pointer chains made on demand; `leaf` writes a PTE at a level. */
function sv39Space() {
  const mem = new PhysicalMemory(boards.ram(64 * MiB, RAM));
  let next = RAM;
  const table = () => ((next += 4096), next - 4096);
  const roots = [table(), table()];
  const write = (addr: number, ppn: number, bits: number) => {
    mem.write32(addr, ((ppn % 2 ** 22) * 1024 + bits) >>> 0);
    mem.write32(addr + 4, Math.floor(ppn / 2 ** 22));
  };
  const slot = (root: number, va: number, level: number, pointerBits = V) => {
    let t = root;
    for (let i = 2; ; i--) {
      const addr = t + (Math.floor(va / 2 ** (12 + 9 * i)) & 511) * 8;
      if (i === level) return addr;
      let lo = mem.read32(addr);
      if ((lo & V) === 0) {
        write(addr, table() / 4096, pointerBits);
        lo = mem.read32(addr);
      }
      t = (lo >>> 10) * 4096 + (mem.read32(addr + 4) & 0x3f_ffff) * 2 ** 34;
    }
  };
  const leaf = (root: number, va: number, pa: number, bits: number, level = 0) => write(slot(root, va, level), pa / 4096, bits);
  return { mem, roots, table, leaf, slot, write };
}

describe('RISC-V TLB: sfence.vma', () => {
  const F1 = RAM + 32 * MiB;
  const F2 = RAM + 48 * MiB;
  const VA = 0x1000;
  const VB = 0x2000;

  // Two address spaces (ASID 1 on root 0, ASID 2 on root 1), each mapping VA and VB, and one global page at VG
  // mapped in both; every translation cached; then every leaf rewritten to F2 behind the TLB's back.
  function setup() {
    const s = sv39Space();
    const w = createWalker('sv39', s.mem);
    const VG = 0x3000;
    for (const root of s.roots) {
      s.leaf(root, VA, F1, V | R | W | A | D);
      s.leaf(root, VB, F1 + 0x1000, V | R | W | A | D);
      s.leaf(root, VG, F1 + 0x2000, V | R | W | G | A | D);
    }
    const look = (asid: number, va: number) => w.translate(s.roots[asid - 1], va, READ, { asid });
    for (const asid of [1, 2]) for (const va of [VA, VB, VG]) look(asid, va);
    for (const root of s.roots) {
      s.leaf(root, VA, F2, V | R | W | A | D);
      s.leaf(root, VB, F2 + 0x1000, V | R | W | A | D);
      s.leaf(root, VG, F2 + 0x2000, V | R | W | G | A | D);
    }
    // Which translations are still the cached (old) ones.
    const cached = () => {
      const out: string[] = [];
      for (const asid of [1, 2]) for (const [n, va] of [['A', VA], ['B', VB], ['G', VG]] as const) if (look(asid, va) < F2) out.push(`${asid}${n}`);
      return out.join(' ');
    };
    return { s, w, look, cached, VG };
  }

  it('entries are tagged: the same address under two ASIDs caches two translations', () => {
    const { w, cached } = setup();
    expect(w.stats()).toMatchObject({ misses: 6, hits: 0 });
    expect(cached()).toBe('1A 1B 1G 2A 2B 2G');
  });

  it('sfence.vma x0, x0 drops everything, global entries too', () => {
    const { w, cached } = setup();
    w.sfenceVma();
    expect(cached()).toBe('');
    expect(w.stats().flushes).toBe(1);
  });

  it('sfence.vma va, x0 drops that page in every address space, global entries too', () => {
    const { w, cached, VG } = setup();
    w.sfenceVma(VA + 0x123);
    expect(cached()).toBe('1B 1G 2B 2G');
    w.sfenceVma(VG);
    expect(cached()).toBe('1B 2B');
  });

  it('sfence.vma x0, asid drops the non-global entries of that ASID only', () => {
    const { w, cached } = setup();
    w.sfenceVma(undefined, 1);
    expect(cached()).toBe('1G 2A 2B 2G');
  });

  it('sfence.vma va, asid drops that page of that ASID only; a global page survives', () => {
    const { w, cached, VG } = setup();
    w.sfenceVma(VA, 2);
    expect(cached()).toBe('1A 1B 1G 2B 2G');
    w.sfenceVma(VG, 1);
    w.sfenceVma(VG, 2);
    expect(cached()).toBe('1A 1B 1G 2B 2G');
  });

  it('G on a pointer makes every mapping below it global', () => {
    const s = sv39Space();
    const w = createWalker('sv39', s.mem);
    const VA = 0x4000_0000;
    s.write(s.slot(s.roots[0], VA, 2), s.table() / 4096, V | G);
    s.leaf(s.roots[0], VA, F1, V | R | A);
    expect(w.translate(s.roots[0], VA, READ, { asid: 5 })).toBe(F1);
    s.leaf(s.roots[0], VA, F2, V | R | A);
    w.sfenceVma(undefined, 5);
    expect(w.translate(s.roots[0], VA, READ, { asid: 5 })).toBe(F1);
    w.sfenceVma(VA);
    expect(w.translate(s.roots[0], VA, READ, { asid: 5 })).toBe(F2);
  });

  it('a superpage cached through several of its pages goes whole with a flush of any address inside it', () => {
    const s = sv39Space();
    const w = createWalker('sv39', s.mem);
    const SP = 0x4000_0000; // a 2 MiB superpage
    s.leaf(s.roots[0], SP, F1, V | R | W | A | D, 1);
    expect(w.translate(s.roots[0], SP + 0x1000, READ)).toBe(F1 + 0x1000);
    expect(w.translate(s.roots[0], SP + 0x1f_f000, READ)).toBe(F1 + 0x1f_f000);
    s.leaf(s.roots[0], SP, F2, V | R | W | A | D, 1);
    expect(w.translate(s.roots[0], SP + 0x1000, READ)).toBe(F1 + 0x1000); // cached
    w.sfenceVma(SP + 0x10_0000); // a page of the superpage never touched
    expect(w.translate(s.roots[0], SP + 0x1000, READ)).toBe(F2 + 0x1000);
    expect(w.translate(s.roots[0], SP + 0x1f_f000, READ)).toBe(F2 + 0x1f_f000);
    // A flush of the next 2 MiB leaves it alone.
    s.leaf(s.roots[0], SP, F1, V | R | W | A | D, 1);
    w.sfenceVma(SP + 2 * MiB);
    expect(w.translate(s.roots[0], SP + 0x1000, READ)).toBe(F2 + 0x1000);
  });

  it('sfence.vma with an address that is not canonical does nothing', () => {
    const s = sv39Space();
    const w = createWalker('sv39', s.mem);
    s.leaf(s.roots[0], 0x1000, F1, V | R | A);
    expect(w.translate(s.roots[0], 0x1000, READ)).toBe(F1);
    s.leaf(s.roots[0], 0x1000, F2, V | R | A);
    // 2^38 + 0x1000 has page 0x1000's low 26 page-number bits, but is no Sv39 address.
    w.sfenceVma(2 ** 38 + 0x1000);
    w.sfenceVma(2 ** 52 + 0x1000);
    expect(w.translate(s.roots[0], 0x1000, READ)).toBe(F1);
    w.sfenceVma(0x1000);
    expect(w.translate(s.roots[0], 0x1000, READ)).toBe(F2);
  });

  it('upper-half pages are tagged apart from lower-half pages with the same low bits (and share their slot)', () => {
    const s = sv39Space();
    const w = createWalker('sv39', s.mem);
    const UP = -(2 ** 38) + 0x1000; // page number -2^26 + 1: the same low 26 bits as page 1
    s.leaf(s.roots[0], 0x1000, F1, V | R | A);
    s.leaf(s.roots[0], UP, F2, V | R | A);
    expect(w.translate(s.roots[0], 0x1000, READ)).toBe(F1);
    expect(w.translate(s.roots[0], UP, READ)).toBe(F2);
    expect(w.translate(s.roots[0], 0x1000, READ)).toBe(F1);
    expect(w.translate(s.roots[0], UP, READ)).toBe(F2);
    expect(w.stats()).toMatchObject({ hits: 0, misses: 4, entries: 1 });
    // The upper page is cached; a flush of the lower one leaves it.
    s.leaf(s.roots[0], UP, F1, V | R | A);
    w.sfenceVma(0x1000);
    expect(w.translate(s.roots[0], UP, READ)).toBe(F2);
    w.sfenceVma(UP);
    expect(w.translate(s.roots[0], UP, READ)).toBe(F1);
  });

  it('the paging-structure cache: a changed pointer PTE is seen after any sfence.vma; roots are not mixed', () => {
    const s = sv39Space();
    const w = createWalker('sv39', s.mem);
    const [r0, r1] = s.roots;
    s.leaf(r0, 0x1000, F1, V | R | A);
    s.leaf(r1, 0x2000, F2, V | R | A); // the same 2 MiB span, another root, the same ASID
    expect(w.translate(r0, 0x1000, READ)).toBe(F1);
    // r1's walk must not reuse r0's level-0 table (which has no entry for 0x2000).
    expect(w.translate(r1, 0x2000, READ)).toBe(F2);
    // (The TLB itself is tagged by ASID only, as on hardware: r0's 0x2000 would now hit r1's entry until a flush.)
    w.sfenceVma();
    expect(w.translate(r0, 0x2000, READ)).toBe(-1);
    // Repoint r0's level-1 entry at another level-0 table: a flush of an unrelated page is enough to see it.
    const t = s.table();
    s.write(t + 3 * 8, F2 / 4096 + 3, V | R | A);
    s.write(s.slot(r0, 0x3000, 1), t / 4096, V);
    w.sfenceVma(0x7000_0000);
    expect(w.translate(r0, 0x3000, READ)).toBe(F2 + 0x3000);
  });

  it('a store to a page cached clean walks again; stats count hits and misses', () => {
    const s = sv39Space();
    const w = createWalker('sv39', s.mem, { tlbSize: 16 });
    s.leaf(s.roots[0], 0x1000, F1, V | R | W | A);
    w.translate(s.roots[0], 0x1000, READ);
    w.translate(s.roots[0], 0x1004, READ);
    w.translate(s.roots[0], 0x1008, WRITE);
    w.translate(s.roots[0], 0x100c, WRITE);
    expect(w.stats()).toEqual({ hits: 2, misses: 2, flushes: 0, faults: 0, entries: 1 });
    expect(s.mem.read32(s.slot(s.roots[0], 0x1000, 0)) & D).toBe(D);
  });
});

describe('x86 TLB: INVLPG, MOV to CR3, PCIDs, global pages', () => {
  // 4-level tables by hand (P 0, R/W 1, U/S 2, A 5, D 6, PS 7, G 8; address from bit 12): two roots, each mapping
  // VA and VB, and a global page VG in both (G on the leaf).
  const P = 1;
  const RWB = 2;
  const PSB = 0x80;
  const GB = 0x100;
  const F1 = RAM + 32 * MiB;
  const F2 = RAM + 48 * MiB;
  const VA = 0x1000;
  const VB = 0x2000;
  const VG = 0x3000;

  function space() {
    const mem = new PhysicalMemory(boards.ram(64 * MiB, RAM));
    let next = RAM;
    const table = () => ((next += 4096), next - 4096);
    const roots = [table(), table()];
    const slot = (root: number, va: number, level: number) => {
      let t = root;
      for (let i = 3; ; i--) {
        const addr = t + (Math.floor(va / 2 ** (12 + 9 * i)) & 511) * 8;
        if (i === level) return addr;
        if ((mem.read32(addr) & P) === 0) mem.write32(addr, table() | P | RWB);
        t = (mem.read32(addr) & ~0xfff) >>> 0;
      }
    };
    const leaf = (root: number, va: number, pa: number, bits: number, level = 0) => mem.write32(slot(root, va, level), pa | bits);
    return { mem, roots, leaf };
  }

  function setup(options: X86WalkerOptions = {}) {
    const s = space();
    const w = createWalker('x86-64', s.mem, options);
    const pcide = options.pcide === true;
    const fill = (base: number) => {
      for (const root of s.roots) {
        s.leaf(root, VA, base, P | RWB);
        s.leaf(root, VB, base + 0x1000, P | RWB);
        s.leaf(root, VG, base + 0x2000, P | RWB | GB);
      }
    };
    fill(F1);
    // Address space n runs on root n-1 with PCID n (or PCID 0 without PCIDE).
    const pcid = (n: number) => (pcide ? n : 0);
    const look = (n: number, va: number) => w.translate(s.roots[n - 1], va, READ, { asid: pcid(n) });
    for (const n of [1, 2]) {
      w.loadCr3(s.roots[n - 1], { pcid: pcid(n), noflush: pcide });
      for (const va of [VA, VB, VG]) look(n, va);
    }
    fill(F2);
    const cached = (spaces = [1, 2]) => {
      const out: string[] = [];
      for (const n of spaces) for (const [name, va] of [['A', VA], ['B', VB], ['G', VG]] as const) if (look(n, va) < F2) out.push(`${n}${name}`);
      return out.join(' ');
    };
    return { s, w, cached, pcid };
  }

  it('with PCIDs: both address spaces stay cached across CR3 loads with no-flush', () => {
    const { cached } = setup({ pcide: true });
    expect(cached()).toBe('1A 1B 1G 2A 2B 2G');
  });

  it('translate without options.asid uses the PCID of the last CR3 load', () => {
    const { s, w } = setup({ pcide: true });
    // PCID 2 (root 1) is current: its cached VA is the old F1 translation.
    expect(w.translate(s.roots[1], VA, READ)).toBe(F1);
    w.loadCr3(s.roots[0], { pcid: 1, noflush: true });
    expect(w.translate(s.roots[0], VB, READ)).toBe(F1 + 0x1000);
    w.loadCr3(s.roots[0], { pcid: 3, noflush: true });
    expect(w.translate(s.roots[0], VB, READ)).toBe(F2 + 0x1000); // nothing cached under PCID 3
  });

  it('INVLPG drops the page for the current PCID and its global entry, not other PCIDs\' entries', () => {
    const { w, cached } = setup({ pcide: true });
    // PCID 2 is current (loaded last).
    w.invlpg(VA);
    expect(cached()).toBe('1A 1B 1G 2B 2G');
    w.invlpg(VG);
    // The global page goes under every PCID.
    expect(cached()).toBe('1A 1B 2B');
  });

  it('MOV to CR3 (PCIDE=1, bit 63 clear) drops the non-global entries of the new PCID only', () => {
    const { s, w, cached } = setup({ pcide: true });
    expect(w.loadCr3(s.roots[0], { pcid: 1 })).toBe(0);
    expect(cached()).toBe('1G 2A 2B 2G');
  });

  it('MOV to CR3 with bit 63 set drops nothing', () => {
    const { s, w, cached } = setup({ pcide: true });
    w.loadCr3(s.roots[0], { pcid: 1, noflush: true });
    expect(cached()).toBe('1A 1B 1G 2A 2B 2G');
  });

  it('without PCIDE a CR3 load drops every non-global entry; global pages survive with CR4.PGE', () => {
    const { s, w, cached } = setup();
    w.loadCr3(s.roots[0]);
    expect(cached([1])).toBe('1G');
  });

  it('without CR4.PGE the G bit is ignored: a CR3 load drops that page too', () => {
    const { s, w, cached } = setup({ pge: false });
    w.loadCr3(s.roots[0]);
    expect(cached([1])).toBe('');
  });

  it('G counts on the leaf only: a PDE with G does not make its pages global', () => {
    const s = space();
    const w = createWalker('x86-64', s.mem);
    s.leaf(s.roots[0], VA, F1, P | RWB);
    // Set G in the PDE above VA's page table (entry 0 of each table on the way: VA is 0x1000).
    const pdpt = (s.mem.read32(s.roots[0]) & ~0xfff) >>> 0;
    const pd = (s.mem.read32(pdpt) & ~0xfff) >>> 0;
    s.mem.write32(pd, s.mem.read32(pd) | GB);
    expect(w.translate(s.roots[0], VA, READ)).toBe(F1);
    s.leaf(s.roots[0], VA, F2, P | RWB);
    w.loadCr3(s.roots[0]);
    expect(w.translate(s.roots[0], VA, READ)).toBe(F2);
  });

  it('flushAll (a CR4.PGE toggle) drops global entries too', () => {
    const { w, cached } = setup({ pcide: true });
    w.flushAll();
    expect(cached()).toBe('');
  });

  it('INVLPG anywhere in a 2 MiB page drops every cached piece of it', () => {
    const s = space();
    const w = createWalker('x86-64', s.mem);
    const LP = 0x20_0000;
    s.leaf(s.roots[0], LP, F1, P | RWB | PSB, 1);
    expect(w.translate(s.roots[0], LP + 0x1000, READ)).toBe(F1 + 0x1000);
    expect(w.translate(s.roots[0], LP + 0x1f_f000, READ)).toBe(F1 + 0x1f_f000);
    s.leaf(s.roots[0], LP, F2, P | RWB | PSB, 1);
    expect(w.translate(s.roots[0], LP + 0x1000, READ)).toBe(F1 + 0x1000);
    w.invlpg(LP + 0x12_3456);
    expect(w.translate(s.roots[0], LP + 0x1000, READ)).toBe(F2 + 0x1000);
    expect(w.translate(s.roots[0], LP + 0x1f_f000, READ)).toBe(F2 + 0x1f_f000);
  });

  it('a #PF drops the faulting page\'s entry (SDM §4.10.4.1): the handler\'s fix is seen without INVLPG', () => {
    const s = space();
    const w = createWalker('x86-64', s.mem);
    s.leaf(s.roots[0], VA, F1, P | RWB); // D clear: a cached read allows no write
    expect(w.translate(s.roots[0], VA, READ)).toBe(F1);
    s.leaf(s.roots[0], VA, F1, 0); // not present now; the TLB still has it
    expect(w.translate(s.roots[0], VA, READ)).toBe(F1);
    expect(w.translate(s.roots[0], VA, WRITE)).toBe(-1); // walks: #PF, not present
    expect(w.fault).toMatchObject({ cause: 14, code: 2, kind: 'invalid' });
    expect(w.translate(s.roots[0], VA, READ)).toBe(-1); // the stale entry is gone
    s.leaf(s.roots[0], VA, F2, P | RWB);
    expect(w.translate(s.roots[0], VA, READ)).toBe(F2);
  });

  it('ia32 and PAE entries are tagged with PCID 0 and flushed by CR3 loads the same way', () => {
    for (const format of ['ia32', 'pae'] as const) {
      const mem = new PhysicalMemory(boards.ram(64 * MiB, RAM));
      const w = createWalker(format, mem);
      const root = RAM;
      if (format === 'ia32') {
        mem.write32(root, (RAM + 0x1000) | P | RWB);
        mem.write32(RAM + 0x1000 + 4, F1 | P | RWB | GB);
        mem.write32(RAM + 0x1000 + 8, (F1 + 0x1000) | P | RWB);
      } else {
        mem.write32(root, (RAM + 0x1000) | P);
        mem.write32(RAM + 0x1000, (RAM + 0x2000) | P | RWB);
        mem.write32(RAM + 0x2000 + 8, F1 | P | RWB | GB);
        mem.write32(RAM + 0x2000 + 16, (F1 + 0x1000) | P | RWB);
      }
      expect(w.translate(root, 0x1000, READ)).toBe(F1);
      expect(w.translate(root, 0x2000, READ)).toBe(F1 + 0x1000);
      expect(w.loadCr3(root)).toBe(0);
      expect(w.stats()).toMatchObject({ entries: 1, misses: 2, flushes: 1 });
      w.invlpg(0x1000);
      expect(w.stats().entries).toBe(0);
    }
  });
});
