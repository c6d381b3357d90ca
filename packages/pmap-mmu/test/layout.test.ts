/*
 * Decodes the tables straight from RAM with the bit positions of the RISC-V privileged spec (Sv39) and the Intel
 * SDM (32-bit paging), written here as literal masks, not through this package's encoders.
 */
import { Access, FaultCode, PageAllocator, PageAttr, PageUsage, PhysicalMemory, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { ia32, sv39 } from '../src/index.js';
import type { MmuPmap } from '../src/index.js';

const { PRESENT, READ, WRITE, EXEC, USER, UNCACHED, DEVICE } = PageAttr;

function boot(factory: typeof sv39) {
  const board = boards.get(factory.defaultBoard);
  const mem = new PhysicalMemory(board);
  const alloc = new PageAllocator(mem, { pageSize: 4096 });
  const kernel = factory.createKernel(mem, alloc, board) as MmuPmap;
  const user = factory.createUser(kernel) as MmuPmap;
  const frame = () => alloc.alloc(4096, { owner: 2 })!.pa;
  return { mem, alloc, kernel, user, frame };
}

describe('Sv39 tables in RAM', () => {
  // 8-byte PTE: V=bit0 R=1 W=2 X=3 U=4 G=5 A=6 D=7, RSW 8–9, PPN bits 10–53, bits 54–63 reserved.
  const pte = (mem: PhysicalMemory, addr: number) => {
    const lo = mem.read32(addr);
    const hi = mem.read32(addr + 4);
    return {
      v: lo & 1,
      r: (lo >>> 1) & 1,
      w: (lo >>> 2) & 1,
      x: (lo >>> 3) & 1,
      u: (lo >>> 4) & 1,
      g: (lo >>> 5) & 1,
      a: (lo >>> 6) & 1,
      d: (lo >>> 7) & 1,
      rsw: (lo >>> 8) & 3,
      ppn: Math.floor(lo / 1024) + (hi % 2 ** 22) * 2 ** 22,
      reserved: Math.floor(hi / 2 ** 22),
    };
  };
  const vpn = (va: number, level: number) => Math.floor(va / 2 ** (12 + 9 * level)) % 512;

  it('walks three levels to a leaf with the entered frame and bits', () => {
    const { mem, alloc, user, frame } = boot(sv39);
    const va = 0x12_3456_7000;
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    const l2 = pte(mem, user.root + vpn(va, 2) * 8);
    expect(l2).toMatchObject({ v: 1, r: 0, w: 0, x: 0, u: 0, a: 0, d: 0, reserved: 0 });
    expect(alloc.get(l2.ppn * 4096)).toMatchObject({ usage: PageUsage.PTABLE, free: false });
    const l1 = pte(mem, l2.ppn * 4096 + vpn(va, 1) * 8);
    expect(l1).toMatchObject({ v: 1, r: 0, w: 0, x: 0 });
    const leafAddr = l1.ppn * 4096 + vpn(va, 0) * 8;
    expect(pte(mem, leafAddr)).toEqual({ v: 1, r: 1, w: 1, x: 0, u: 1, g: 0, a: 0, d: 0, rsw: 0, ppn: pa / 4096, reserved: 0 });
    // Hardware A/D: a load sets A, a store sets D.
    expect(user.translate(va + 0x10, Access.READ | Access.USER)).toBe(pa + 0x10);
    expect(pte(mem, leafAddr)).toMatchObject({ a: 1, d: 0 });
    expect(user.translate(va + 0x10, Access.WRITE | Access.USER)).toBe(pa + 0x10);
    expect(pte(mem, leafAddr)).toMatchObject({ a: 1, d: 1 });
    // resolve is a probe: no A/D change
    const va2 = va + 4096;
    expect(user.enter(pa, va2, PRESENT | READ | EXEC | USER | PageAttr.GLOBAL)).toBe(0);
    expect(user.resolve(va2 + 3)).toBe(pa + 3);
    expect(pte(mem, leafAddr + 8)).toMatchObject({ v: 1, r: 1, w: 0, x: 1, u: 1, g: 1, a: 0, d: 0 });
  });

  it('writes Svpbmt memory types (bits 61–62: 0 PMA, 1 NC, 2 IO) and faults on PBMT=3, PBMT on a pointer, and reserved bits', () => {
    const { mem, user, frame } = boot(sv39);
    const hiOf = (addr: number) => mem.read32(addr + 4);
    const pbmt = (addr: number) => Math.floor(hiOf(addr) / 2 ** 29) % 4; // PTE bits 61–62
    const leaf = (va: number) => {
      const l1 = Math.floor(mem.read32(user.root + vpn(va, 2) * 8) / 1024) * 4096;
      const l0 = Math.floor(mem.read32(l1 + vpn(va, 1) * 8) / 1024) * 4096;
      return l0 + vpn(va, 0) * 8;
    };
    const [plain, nc, io] = [0x40_0000, 0x40_1000, 0x40_2000];
    const pa = frame();
    expect(user.enter(pa, plain, PRESENT | READ | WRITE | USER)).toBe(0);
    expect(user.enter(pa, nc, PRESENT | READ | WRITE | USER | UNCACHED)).toBe(0);
    expect(user.enter(pa, io, PRESENT | READ | WRITE | USER | UNCACHED | DEVICE)).toBe(0);
    expect([plain, nc, io].map((va) => pbmt(leaf(va)))).toEqual([0, 1, 2]);
    for (const va of [plain, nc, io]) expect(user.translate(va + 4, Access.WRITE | Access.USER)).toBe(pa + 4);
    // protect rewrites the memory type with the rest of the attributes.
    user.protect(nc, nc + 4096, PRESENT | READ | USER);
    expect(pbmt(leaf(nc))).toBe(0);
    user.protect(plain, plain + 4096, PRESENT | READ | USER | DEVICE);
    expect(pbmt(leaf(plain))).toBe(2);
    // Hand-written encodings the spec reserves raise a page fault (BAD_ADDRESS here).
    const a = leaf(io);
    const hi = hiOf(a);
    for (const bad of [hi | 0x6000_0000 /* PBMT=3 */, (hi & ~0x6000_0000) | 0x40_0000 /* bit 54 */, (hi | 0x8000_0000) >>> 0 /* N, bit 63 */]) {
      mem.write32(a + 4, bad >>> 0);
      user.flushTlb();
      expect(user.translate(io, Access.READ | Access.USER)).toBe(FaultCode.BAD_ADDRESS);
    }
    mem.write32(a + 4, hi);
    user.flushTlb();
    expect(user.translate(io, Access.READ | Access.USER)).toBe(pa);
    // PBMT on a pointer (the level-2 entry of this region) is reserved too.
    const root = user.root + vpn(io, 2) * 8;
    const rootHi = hiOf(root);
    mem.write32(root + 4, (rootHi | 0x2000_0000) >>> 0);
    user.flushTlb();
    expect(user.translate(io, Access.READ | Access.USER)).toBe(FaultCode.BAD_ADDRESS);
    mem.write32(root + 4, rootHi);
    user.flushTlb();
    expect(user.translate(io, Access.READ | Access.USER)).toBe(pa);
    user.check();
  });

  it('shares root entry 255 (the kernel GiB) with the kernel, and marks non-present entries with RSW', () => {
    const { mem, kernel, user, frame } = boot(sv39);
    expect(mem.read32(user.root + 255 * 8)).toBe(mem.read32(kernel.root + 255 * 8));
    expect(mem.read32(user.root + 255 * 8 + 4)).toBe(mem.read32(kernel.root + 255 * 8 + 4));
    expect(pte(mem, kernel.root + 255 * 8)).toMatchObject({ v: 1, r: 0, w: 0, x: 0 });
    for (let i = 0; i < 255; i++) expect(mem.read32(user.root + i * 8)).toBe(0);
    const pa = frame();
    expect(user.enter(pa, 0x5000, USER | READ)).toBe(0);
    const l1 = pte(mem, pte(mem, user.root).ppn * 4096);
    const leaf = pte(mem, l1.ppn * 4096 + 5 * 8);
    expect(leaf).toMatchObject({ v: 0, rsw: 1, u: 1, ppn: pa / 4096 });
    expect(user.translate(0x5000, Access.READ | Access.USER)).toBe(FaultCode.NOT_MAPPED);
    user.protect(0x5000, 0x6000, PRESENT | READ | USER);
    expect(pte(mem, l1.ppn * 4096 + 5 * 8)).toMatchObject({ v: 1, rsw: 0, r: 1, u: 1, ppn: pa / 4096 });
    expect(user.translate(0x5008, Access.READ | Access.USER)).toBe(pa + 8);
  });

  it('honours superpage leaves written by hand, and faults on misaligned ones', () => {
    const { mem, user, frame } = boot(sv39);
    // Make the level-1 table for the first GiB exist, then put a 2 MiB leaf in its entry 3.
    expect(user.enter(frame(), 0x1000, PRESENT | READ | USER)).toBe(0);
    const l1 = pte(mem, user.root).ppn * 4096;
    const big = 0x8060_0000; // 2 MiB aligned, in RAM
    const ppn = big / 4096;
    const lo = (ppn % 2 ** 22) * 1024 + (1 | 2 | 4 | 16); // V R W U
    mem.write32(l1 + 3 * 8, lo);
    mem.write32(l1 + 3 * 8 + 4, Math.floor(ppn / 2 ** 22));
    const base = 3 * 2 * 1024 * 1024;
    expect(user.translate(base + 0x12_3456, Access.WRITE | Access.USER)).toBe(big + 0x12_3456);
    expect(user.resolve(base + 0x1f_fffc)).toBe(big + 0x1f_fffc);
    expect(pte(mem, l1 + 3 * 8)).toMatchObject({ a: 1, d: 1 });
    // a 1 GiB leaf at the root: root entry 2 maps [2 GiB, 3 GiB) onto pa 0x8000_0000 (aligned to 1 GiB)
    const gppn = 0x8000_0000 / 4096;
    mem.write32(user.root + 2 * 8, (gppn % 2 ** 22) * 1024 + (1 | 2 | 16));
    mem.write32(user.root + 2 * 8 + 4, Math.floor(gppn / 2 ** 22));
    expect(user.translate(2 * 2 ** 30 + 0x30_1234, Access.READ | Access.USER)).toBe(0x8030_1234);
    // misaligned: PPN of a 2 MiB leaf not a multiple of 512
    mem.write32(l1 + 4 * 8, ((ppn + 1) % 2 ** 22) * 1024 + (1 | 2 | 16));
    expect(user.translate(4 * 2 * 1024 * 1024, Access.READ | Access.USER)).toBe(FaultCode.BAD_ADDRESS);
    // W without R is reserved
    mem.write32(l1 + 5 * 8, (ppn % 2 ** 22) * 1024 + (1 | 4 | 16));
    expect(user.translate(5 * 2 * 1024 * 1024, Access.READ | Access.USER)).toBe(FaultCode.BAD_ADDRESS);
    // clean up the hand-made entries so destroy frees only real tables
    for (const a of [l1 + 3 * 8, l1 + 4 * 8, l1 + 5 * 8, user.root + 2 * 8]) {
      mem.write32(a, 0);
      mem.write32(a + 4, 0);
    }
    // The TLB still holds the hand-made translations, as hardware would until an sfence.vma.
    expect(() => user.check()).toThrow(/stale/);
    user.flushTlb();
    user.check();
    expect(user.translate(base, Access.READ | Access.USER)).toBe(FaultCode.NOT_MAPPED);
  });

  it('applies the privileged-spec permission rules: no SUM, no MXR', () => {
    const { user, frame } = boot(sv39);
    const xo = frame();
    const up = frame();
    expect(user.enter(xo, 0x10000, PRESENT | EXEC | USER)).toBe(0);
    expect(user.enter(up, 0x11000, PRESENT | READ | WRITE | USER)).toBe(0);
    expect(user.translate(0x10000, Access.EXEC | Access.USER)).toBe(xo);
    expect(user.translate(0x10000, Access.READ | Access.USER)).toBe(FaultCode.PROTECTION); // MXR=0
    expect(user.translate(0x11000, Access.READ)).toBe(FaultCode.PROTECTION); // SUM=0
    expect(user.translate(0x11000, Access.EXEC)).toBe(FaultCode.PROTECTION);
    expect(user.translate(0x11000, Access.READ | Access.WRITE | Access.USER)).toBe(up);
  });

  it('reports integer addresses outside the lower half as NON_CANONICAL, and non-addresses as BAD_ADDRESS', () => {
    const { user } = boot(sv39);
    for (const va of [2 ** 38, 2 ** 39 - 1, 2 ** 52, 2 ** 60, -4096]) {
      expect(user.translate(va, Access.READ)).toBe(FaultCode.NON_CANONICAL);
    }
    for (const va of [0.5, 4096.25, Number.NaN, Number.POSITIVE_INFINITY, 4096n, '4096']) {
      expect(user.translate(va as number, Access.READ)).toBe(FaultCode.BAD_ADDRESS);
    }
    expect(user.translate(4096, 0)).toBe(FaultCode.BAD_ADDRESS);
    expect(user.translate(4096, 16)).toBe(FaultCode.BAD_ADDRESS);
  });
});

describe('ia32 tables in RAM', () => {
  // 4-byte PDE/PTE: P=0x1 RW=0x2 US=0x4 PWT=0x8 PCD=0x10 A=0x20 D=0x40 (PTE), frame in bits 12–31.
  const decode = (v: number) => ({
    p: v & 0x1 ? 1 : 0,
    rw: v & 0x2 ? 1 : 0,
    us: v & 0x4 ? 1 : 0,
    pwt: v & 0x8 ? 1 : 0,
    pcd: v & 0x10 ? 1 : 0,
    a: v & 0x20 ? 1 : 0,
    d: v & 0x40 ? 1 : 0,
    frame: (v & 0xffff_f000) >>> 0,
  });

  it('walks the page directory and a page table to the entered frame and bits', () => {
    const { mem, alloc, user, frame } = boot(ia32);
    const va = 0x0804_8000;
    const pa = frame();
    expect(user.enter(pa, va, PRESENT | READ | WRITE | USER)).toBe(0);
    const pdeAddr = user.root + (va >>> 22) * 4;
    const pde = decode(mem.read32(pdeAddr));
    expect(pde).toMatchObject({ p: 1, rw: 1, us: 1, a: 0 });
    expect(alloc.get(pde.frame)).toMatchObject({ usage: PageUsage.PTABLE, free: false });
    const pteAddr = pde.frame + ((va >>> 12) & 0x3ff) * 4;
    expect(decode(mem.read32(pteAddr))).toEqual({ p: 1, rw: 1, us: 1, pwt: 0, pcd: 0, a: 0, d: 0, frame: pa });
    expect(user.translate(va + 4, Access.READ | Access.USER)).toBe(pa + 4);
    expect(decode(mem.read32(pteAddr))).toMatchObject({ a: 1, d: 0 });
    expect(decode(mem.read32(pdeAddr))).toMatchObject({ a: 1 });
    expect(user.translate(va + 4, Access.WRITE | Access.USER)).toBe(pa + 4);
    expect(decode(mem.read32(pteAddr))).toMatchObject({ a: 1, d: 1 });
    expect(user.enter(pa, va + 0x1000, PRESENT | READ | UNCACHED)).toBe(0);
    expect(decode(mem.read32(pteAddr + 4))).toMatchObject({ p: 1, rw: 0, us: 0, pcd: 1, pwt: 0 });
    expect(user.enter(pa, va + 0x2000, PRESENT | READ | WRITE | DEVICE)).toBe(0);
    expect(decode(mem.read32(pteAddr + 8))).toMatchObject({ p: 1, rw: 1, pcd: 1, pwt: 1 });
  });

  it('copies the 256 kernel PDEs into every page directory', () => {
    const { mem, kernel, user } = boot(ia32);
    for (let i = 768; i < 1024; i++) {
      const k = mem.read32(kernel.root + i * 4);
      expect(decode(k).p).toBe(1);
      expect(mem.read32(user.root + i * 4)).toBe(k);
    }
    for (let i = 0; i < 768; i++) expect(mem.read32(user.root + i * 4)).toBe(0);
    expect(kernel.stats().tableFrames).toBe(257);
  });

  it('applies 32-bit paging rights: WP=1, no NX, supervisor may touch user pages', () => {
    const { user, frame } = boot(ia32);
    const ro = frame();
    const sup = frame();
    expect(user.enter(ro, 0x10000, PRESENT | READ | USER)).toBe(0);
    expect(user.enter(sup, 0x11000, PRESENT | READ)).toBe(0);
    expect(user.translate(0x10000, Access.WRITE)).toBe(FaultCode.PROTECTION);
    expect(user.translate(0x10000, Access.READ)).toBe(ro);
    expect(user.translate(0x10000, Access.EXEC | Access.USER)).toBe(ro);
    expect(user.translate(0x11000, Access.EXEC)).toBe(sup);
    expect(user.translate(0x11000, Access.READ | Access.USER)).toBe(FaultCode.PROTECTION);
    expect(user.translate(2 ** 32, Access.READ)).toBe(FaultCode.BAD_ADDRESS);
    expect(user.translate(-1, Access.READ)).toBe(FaultCode.BAD_ADDRESS);
  });

  it('reads an EXEC-only page, as hardware does without NX, whether the TLB holds it or not', () => {
    const { mem, user, frame } = boot(ia32);
    const pa = frame();
    const va = 0x20000;
    expect(user.enter(pa, va, PRESENT | EXEC | USER)).toBe(0);
    // The PTE has no bit for EXEC or READ: P alone, which the MMU reads as "readable and executable".
    const pde = mem.read32(user.root + (va >>> 22) * 4);
    expect(decode(mem.read32(((pde & 0xffff_f000) >>> 0) + ((va >>> 12) & 0x3ff) * 4))).toMatchObject({ p: 1, rw: 0, us: 1 });
    // read first: a walk answers
    expect(user.translate(va + 8, Access.READ | Access.USER)).toBe(pa + 8);
    expect(user.translate(va + 8, Access.EXEC | Access.USER)).toBe(pa + 8);
    expect(user.translate(va + 8, Access.WRITE | Access.USER)).toBe(FaultCode.PROTECTION);
    // exec first, then the read from the TLB: the same answer
    user.flushTlb();
    expect(user.translate(va + 16, Access.EXEC | Access.USER)).toBe(pa + 16);
    const misses = user.stats().tlbMisses;
    expect(user.translate(va + 16, Access.READ | Access.USER)).toBe(pa + 16);
    expect(user.stats().tlbMisses).toBe(misses);
    expect(user.translate(va + 16, Access.READ | Access.EXEC | Access.USER)).toBe(pa + 16);
    // and a supervisor read (no SMAP)
    expect(user.translate(va + 16, Access.READ)).toBe(pa + 16);
    user.check();
  });
});

describe('constants the walks inline', () => {
  it('use the FaultCode values of phys', () => {
    // The walks return literals through const enums; a change in phys must show here.
    expect([FaultCode.NOT_MAPPED, FaultCode.PROTECTION, FaultCode.BAD_ADDRESS]).toEqual([-1, -2, -5]);
    expect([Access.READ, Access.WRITE, Access.EXEC, Access.USER]).toEqual([1, 2, 4, 8]);
  });
});
