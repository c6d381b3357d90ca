/*
 * One walk for 32-bit paging: the ia32 pmap's walk is the x86 walker's core (src/walk/x86.ts), so on tables the pmap
 * never builds itself — 4 MiB PSE pages written by hand, PSE-36 frames above 4 GiB, reserved bits, every R/W and U/S
 * combination of a PDE and its PTE, a page table outside RAM — its `translate` and `resolve` answer as the ia32
 * walker (CR0.WP=1, CR4.PSE, no SMEP/SMAP) does, and both leave the same A/D bits in RAM. Two spaces booted alike in
 * two memories get the same hand-written entries: the pmap translates in one, the walker in the other.
 */
import { Access, FaultCode, PageAttr, PhysicalMemory } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ia32 } from '../src/ia32.js';
import type { MmuPmap } from '../src/mmu-pmap.js';
import { X86Core, X86Fault } from '../src/walk/x86.js';
import { createWalker } from '../src/walk/create-walker.js';
import type { X86Walker } from '../src/walk/x86.js';
import { bootSpaces } from './support/boot.js';

const MiB = 1024 * 1024;
// PDE/PTE bits (SDM vol. 3A §4.3): P, R/W, U/S, A, D, PS (PDE), G.
const P = 0x1;
const RW = 0x2;
const US = 0x4;
const A = 0x20;
const D = 0x40;
const PS = 0x80;
const ACCESSES = [1, 2, 3, 4, 9, 10, 11, 12];

interface Side {
  mem: PhysicalMemory;
  user: MmuPmap;
  table: number;
  frame(): number;
}

// A space in a memory of its own: the same board and allocation order give the same root and table frames.
function side(): Side {
  const { mem, alloc, kernel, user } = bootSpaces(ia32);
  const frame = () => alloc.alloc(4096, { owner: 2 })!.pa;
  const table = frame();
  return { mem, user, table, frame };
}

/** The pmap in one memory, the walker in the other; `write` puts the same entries in both. */
function pair() {
  const a = side();
  const b = side();
  expect(b.user.root).toBe(a.user.root);
  expect(b.table).toBe(a.table);
  const walker = createWalker('ia32', b.mem, { wp: true, pse: true, smep: false, smap: false, pge: true }) as X86Walker;
  const write = (addr: number, value: number) => {
    a.mem.write32(addr, value >>> 0);
    b.mem.write32(addr, value >>> 0);
    // The OS's part after editing tables: a CR3 reload in both.
    a.user.flushTlb();
    walker.flushAll();
  };
  const pdeAddr = (va: number) => a.user.root + (va >>> 22) * 4;
  const compare = (va: number, access: number, label: string) => {
    const viaPmap = a.user.translate(va, access);
    const viaWalker = walker.translate(a.user.root, va, access);
    expect(viaPmap, `${label} va=${va.toString(16)} access=${access}`).toBe(viaWalker);
    return viaPmap;
  };
  return { a, b, walker, write, pdeAddr, compare };
}

describe('the ia32 pmap walks as the ia32 walker (one walk core)', () => {
  it('maps a hand-written 4 MiB PSE page, with PSE-36 address bits, as the walker does', () => {
    const { a, b, write, pdeAddr, compare } = pair();
    const va = 0x4000_0000;
    // Frame 0x0_8040_0000 (4 MiB aligned), then one with PSE-36 bits 35:32 = 0x3 (PDE bits 14:13).
    for (const [pde, pa] of [
      [0x8040_0000 | PS | P | RW | US, 0x8040_0000],
      [0x8040_0000 | (0x3 << 13) | PS | P | RW | US, 3 * 2 ** 32 + 0x8040_0000],
    ]) {
      write(pdeAddr(va), pde);
      for (const off of [0, 0x1234, 0x3f_f000 + 8]) {
        for (const access of ACCESSES) expect(compare(va + off, access, 'pse')).toBe(pa + off);
      }
      expect(a.user.resolve(va + 0x20_0010)).toBe(pa + 0x20_0010);
      // A and D set in the PDE (the leaf) by both, on the read and on the write.
      expect(a.mem.read32(pdeAddr(va))).toBe(b.mem.read32(pdeAddr(va)));
      expect(a.mem.read32(pdeAddr(va)) & (A | D)).toBe(A | D);
    }
  });

  it('lists a hand-written 4 MiB page at the address the walk reads (PAT and PSE-36 bits are no frame bits)', () => {
    const { a, write, pdeAddr } = pair();
    const va = 0x4000_0000;
    // PAT (bit 12) set, PSE-36 bits 35:32 = 0x3: the page is at 3 × 2^32 + 0x8040_0000.
    write(pdeAddr(va), 0x8040_0000 | 0x1000 | (0x3 << 13) | PS | P | RW | US);
    const leaf = a.user.leaves().find((l) => l.va === va);
    expect(leaf).toMatchObject({ va, pa: 3 * 2 ** 32 + 0x8040_0000, size: 4 * MiB });
  });

  it('treats a hand-written 4 MiB page as the other formats treat a hand-written superpage', () => {
    const { a, write, pdeAddr } = pair();
    const va = 0x4000_0000;
    const pde = 0x8040_0000 | PS | P | RW | US;
    write(pdeAddr(va), pde);
    // enter inside it would hang a table where the page is: refused, nothing changed.
    expect(() => a.user.enter(a.frame(), va + 0x5000, PageAttr.PRESENT | PageAttr.READ)).toThrow(/EINVAL/);
    expect(a.mem.read32(pdeAddr(va))).toBe(pde >>> 0);
    // remove and protect over it leave it alone.
    a.user.remove(va, va + 4 * MiB);
    a.user.protect(va, va + 4 * MiB, PageAttr.PRESENT | PageAttr.READ);
    expect(a.mem.read32(pdeAddr(va))).toBe(pde >>> 0);
    expect(a.user.translate(va + 0x1234, 1)).toBe(0x8040_1234);
  });

  it('faults on a 4 MiB page with a reserved bit (PSE-36 bits past MAXPHYADDR, bit 21) as the walker does', () => {
    const { a, write, pdeAddr, compare } = pair();
    const va = 0x4000_0000;
    for (const bit of [17, 18, 21]) {
      write(pdeAddr(va), 0x8040_0000 | (1 << bit) | PS | P | RW | US);
      for (const access of ACCESSES) expect(compare(va + 0x5000, access, `rsvd bit ${bit}`)).toBe(FaultCode.BAD_ADDRESS);
      expect(a.user.resolve(va)).toBe(-1);
      // A faulting walk sets nothing.
      expect(a.mem.read32(pdeAddr(va)) & A).toBe(0);
    }
  });

  it('gives every R/W × U/S combination of a PDE and its PTE the walker’s rights, and the same A/D bits', () => {
    const { a, b, write, pdeAddr, compare } = pair();
    const va = 0x0840_0000 + 7 * 4096;
    const pteAddr = a.table + ((va >>> 12) & 1023) * 4;
    const frame = 0x0030_0000;
    let granted = 0;
    for (let pdeBits = 0; pdeBits < 4; pdeBits++) {
      for (let pteBits = 0; pteBits < 4; pteBits++) {
        for (const access of ACCESSES) {
          const flags = (x: number) => (x & 1 ? RW : 0) | (x & 2 ? US : 0);
          write(pdeAddr(va), a.table | P | flags(pdeBits));
          write(pteAddr, frame | P | flags(pteBits));
          const r = compare(va + 12, access, `pde ${pdeBits} pte ${pteBits}`);
          if (r >= 0) granted++;
          expect(a.mem.read32(pdeAddr(va))).toBe(b.mem.read32(pdeAddr(va)));
          expect(a.mem.read32(pteAddr)).toBe(b.mem.read32(pteAddr));
          // The second access of the pair is a TLB hit in both.
          compare(va + 16, access, `pde ${pdeBits} pte ${pteBits}, again`);
        }
      }
    }
    expect(granted).toBeGreaterThan(0);
    expect(granted).toBeLessThan(16 * ACCESSES.length);
  });

  it('answers a page table outside RAM and a not-present PDE or PTE as the walker does', () => {
    const { a, write, pdeAddr, compare } = pair();
    const va = 0x0900_0000;
    // The VGA window and a hole: no RAM behind either.
    for (const table of [0xa_0000, 0x4000_0000]) {
      write(pdeAddr(va), table | P | RW | US);
      for (const access of ACCESSES) expect(compare(va, access, `table ${table.toString(16)}`)).toBe(FaultCode.BAD_ADDRESS);
      expect(a.user.resolve(va)).toBe(-1);
    }
    write(pdeAddr(va), a.table | RW | US);
    expect(compare(va, Access.READ, 'pde not present')).toBe(FaultCode.NOT_MAPPED);
    write(pdeAddr(va), a.table | P | RW | US);
    write(a.table + ((va >>> 12) & 1023) * 4, 0x0030_0000 | RW | US);
    expect(compare(va, Access.READ | Access.USER, 'pte not present')).toBe(FaultCode.NOT_MAPPED);
  });

  it('walks the tables the pmap builds as before, its walk cache agreeing with a fresh walk (check)', () => {
    const { a, walker } = pair();
    const va = 0x0804_8000;
    const pa = a.frame();
    expect(a.user.enter(pa, va, PageAttr.PRESENT | PageAttr.READ | PageAttr.USER)).toBe(0);
    expect(a.user.translate(va + 4, Access.READ | Access.USER)).toBe(pa + 4);
    expect(a.user.translate(va + 8, Access.WRITE | Access.USER)).toBe(FaultCode.PROTECTION);
    expect(a.user.resolve(va + 12)).toBe(pa + 12);
    // The walker over the pmap's own memory: the same tables, the same answer.
    const same = createWalker('ia32', a.mem, { pse: true });
    expect(same.translate(a.user.root, va + 4, Access.READ | Access.USER)).toBe(pa + 4);
    expect(walker.stats().misses).toBe(0);
    a.user.check();
  });
});

describe('X86Core.entry', () => {
  const config = { wp: true, pse: true, pge: true, nxe: true, smep: false, smap: false, pcide: false, gbPages: true, maxPhysAddr: 36 };

  it('classifies 32-bit PDEs by CR4.PSE: PS maps 4 MiB with it, is ignored without it', () => {
    const pse = new X86Core('ia32', { ...config, nxe: false, gbPages: false });
    const noPse = new X86Core('ia32', { ...config, nxe: false, gbPages: false, pse: false });
    expect(pse.entry(0x40_0000 | PS | P | RW, 0, 1)).toBe(RW);
    expect(noPse.entry(0x40_0000 | PS | P | RW, 0, 1)).toBe(RW | 1);
    expect(pse.entry(0x40_0000 | (1 << 21) | PS | P, 0, 1)).toBe(X86Fault.RESERVED);
    expect(pse.entry(0x40_0000 | PS, 0, 1)).toBe(X86Fault.INVALID);
    // A 32-bit PTE has no reserved bit: PAT (bit 7) is no PS there.
    expect(pse.entry(0x1000 | PS | P | US, 0, 0)).toBe(US);
  });

  it('classifies PAE PDPTEs, 2 MiB and 1 GiB pages, PS in a PML4E and XD', () => {
    const pae = new X86Core('pae', config);
    expect(pae.entry(0x1000 | P, 0, 2)).toBe(RW | US | 1);
    expect(pae.entry(0x1000 | P | RW, 0, 2)).toBe(X86Fault.PDPTE_RESERVED);
    expect(pae.entry(0x20_0000 | PS | P | US, 0x8000_0000, 1)).toBe(US | 8);
    expect(pae.entry(0x20_1000 | PS | P, 0, 1)).toBe(0);
    expect(pae.entry(0x20_2000 | PS | P, 0, 1)).toBe(X86Fault.RESERVED);
    const long = new X86Core('x86-64', { ...config, maxPhysAddr: 48 });
    expect(long.entry(0x1000 | PS | P, 0, 3)).toBe(X86Fault.RESERVED);
    expect(long.entry(0x4000_0000 | PS | P | RW, 0, 2)).toBe(RW);
    expect(long.entry(0x4020_0000 | PS | P | RW, 0, 2)).toBe(X86Fault.RESERVED);
    expect(new X86Core('x86-64', { ...config, maxPhysAddr: 48, gbPages: false }).entry(0x4000_0000 | PS | P, 0, 2)).toBe(X86Fault.RESERVED);
    // Address bits at and above MAXPHYADDR are reserved; bits 62:52 are ignored in 4-level paging.
    expect(long.entry(0x1000 | P, 0x1_0000, 0)).toBe(X86Fault.RESERVED);
    expect(long.entry(0x1000 | P, 0x7ff0_0000, 0)).toBe(0);
    expect(new X86Core('x86-64', { ...config, maxPhysAddr: 48, nxe: false }).entry(0x1000 | P, 0x8000_0000, 0)).toBe(X86Fault.RESERVED);
  });
});
