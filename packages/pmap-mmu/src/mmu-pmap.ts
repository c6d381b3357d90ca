import { CHUNK_SIZE, FaultCode, PageOwner, PageUsage, VmError, hex, invariant } from '@vmlayers/phys';
import type { BoardMemoryMap, PageAllocator, PhysicalMemory, Pmap, PmapStats, PmapTable } from '@vmlayers/phys';
import { isAccessCode } from './internal/access-mask.js';
import { frameWords } from './internal/frame-words.js';
import { PAGE_SIZE } from './internal/format.js';
import type { PagingFormat } from './internal/format.js';
import type { PteLeaf } from './dump-tables.js';
import { checkAddress, checkAttr, checkRange } from './internal/validate.js';
import { AsidAllocator } from './asid.js';
import { BIG_TAG, Tlb, hitWord } from './tlb.js';
import type { TlbView } from './tlb.js';
import { WalkCache } from './walk-cache.js';

/** TLB slots per address space (direct-mapped). */
export const TLB_SIZE = 256;
const TLB_MASK = TLB_SIZE - 1;
/** Leaf tables remembered per address space (paging-structure cache). */
export const WALK_CACHE_SIZE = 64;

/** The access codes with the WRITE bit (2, 3, 6, 7 and their USER forms). */
const WRITE_CODES = 0xcccc;

// Results of a range operation on the tables.
const CHANGED_PRESENT = 1; // a valid leaf changed: TLBs must drop it
const CLEARED = 2; // an entry became zero: its table may now be empty

/** What a kernel pmap and every user pmap made from it share. */
interface KernelSpace {
  readonly format: PagingFormat;
  readonly mem: PhysicalMemory;
  readonly alloc: PageAllocator;
  /**
   * Live user address spaces. A kernel-half change is shot down in each one's TLB at once, page by page, as an
   * IPI-driven TLB shootdown does; nothing has to be checked on the hit path.
   */
  readonly users: Set<MmuPmap>;
  /** The kernel address space (set once it is made): a kernel-half A/D clear through a user space drops its TLB too. */
  kernel: MmuPmap | null;
  /** The user spaces' hardware ASIDs (formats with `asids > 0`), else null. */
  readonly asids: AsidAllocator<MmuPmap> | null;
  active: MmuPmap | null;
  /**
   * First page number past the kernel tables built at boot. Kernel leaf tables above it were added on demand and
   * go back to the allocator when they empty, so kernel memory given back leaves no table behind.
   */
  bootEndVpn: number;
}

/**
 * One address space in an MMU page-table format: the tables live in `PhysicalMemory` as the hardware lays them
 * out, the software TLB in typed arrays. Made by a factory (`sv39`, `ia32`), never directly.
 */
export class MmuPmap implements Pmap {
  /**
   * Physical address of the root table this space owns (what `satp`/`CR3` would hold; with two base registers,
   * TTBR0 for a user space and TTBR1 for the kernel).
   */
  declare readonly root: number;
  /** @internal The root walks of pages below `splitVpn` start from: `root`, or -1 (none: the kernel's TTBR0 half). */
  declare private readonly rootLow: number;
  /** @internal The root walks of pages from `splitVpn` on start from (the kernel's TTBR1 table). */
  declare private readonly rootHigh: number;
  /** @internal The format's `splitVpn`, here so a walk reads it from `this`. */
  declare private readonly splitVpn: number;
  /** @internal Page number of root entry 0: the TTBR1 half's first page for a split-format kernel, else 0. */
  declare private readonly rootBase: number;
  /** @internal Slot in the ASID allocator (0: no ASID). */
  asidSlot = 0;
  /** @internal Bytes of the root table (a frame, or ARMv7-A's 16 KiB / 8 KiB run of frames). */
  declare private readonly rootBytes: number;
  /** @internal Root entries as this class handles them (ARMv7-A: groups of four level-1 descriptors). */
  declare private readonly rootEntries: number;
  /** @internal Bytes of one root entry. */
  declare private readonly rootStride: number;
  /** @internal The valid bit of a leaf PTE. */
  declare private readonly leafValid: number;
  /** @internal The valid bits of an entry above the leaf level. */
  declare private readonly upperValid: number;
  /** @internal Hardware descriptors in one root entry (ARMv7-A: 4, else 1). */
  declare private readonly rootSub: number;
  /** True for the kernel address space. */
  declare readonly isKernel: boolean;
  /** The virtual range `enter`/`remove`/`protect` accept: the kernel half, or the user range. */
  declare readonly range: readonly [number, number];
  declare private readonly space: KernelSpace;
  declare private readonly format: PagingFormat;
  declare private readonly mem: PhysicalMemory;
  private readonly tlb = new Tlb(TLB_SIZE);
  private readonly walkCache = new WalkCache(WALK_CACHE_SIZE);
  // The TLB's array, held directly so the hit path is one load of it. Fields are initialised here or `declare`d
  // and set in the constructor, so each is defined once with its final type.
  private readonly tlbEntries: Int32Array = this.tlb.entries;
  // The walk cache's arrays, held directly (they are never replaced): one dependent load fewer on every miss.
  private readonly wcKey: Int32Array = this.walkCache.key;
  private readonly wcWords: (Uint32Array | null)[] = this.walkCache.words;
  private readonly wcBits: Int32Array = this.walkCache.bits;
  // log2 of the pages one leaf table maps (the format's indexBits), here so a miss reads it from `this`.
  declare private readonly leafShift: number;
  // Entries per table - 1 (2^indexBits - 1).
  declare private readonly indexMask: number;
  private readonly view: TlbView = Object.freeze({ entries: this.tlb.entries, mask: TLB_MASK, pageShift: 12 });
  // out[0..1]: a walk's frame and allowed codes; out[2]: faults the pmap's fault path served in software (AArch64
  // without hardware A/D management).
  private readonly out = new Float64Array(3);
  // translate's hits, counted per TLB slot: an increment then waits for the previous one only when both hits fell
  // in the same slot, where one counter field made every hit wait for the last (a load and a store to the same
  // address, about 0.4 ns a hit). Exact (doubles, to 2^53); stats() adds them up.
  private readonly slotHits = new Float64Array(TLB_SIZE);
  // The hits the slow path serves (a Sv39 address or frame at or above 4 GiB).
  private tlbHits = 0;
  private tlbMisses = 0;
  private tlbFlushes = 0;
  // Walks are the TLB misses plus the probes (`resolve`): only the probes are counted apart.
  private probes = 0;
  private frames = 0;
  private dead = false;

  private constructor(space: KernelSpace, isKernel: boolean, root: number) {
    this.space = space;
    this.format = space.format;
    this.leafShift = space.format.indexBits;
    this.indexMask = (1 << space.format.indexBits) - 1;
    this.mem = space.mem;
    this.isKernel = isKernel;
    this.root = root;
    this.frames = 1;
    this.range = isKernel ? space.format.kernelRange : space.format.userRange;
    this.rootBytes = rootBytesOf(space.format, isKernel);
    this.rootStride = space.format.rootEntryBytes ?? space.format.pteSize;
    this.rootEntries = this.rootBytes / this.rootStride;
    this.leafValid = space.format.leafValidMask ?? 1;
    this.upperValid = space.format.upperValidMask ?? 1;
    this.rootSub = this.rootStride / space.format.pteSize;
    const split = space.format.splitVpn;
    this.splitVpn = split;
    if (split === Infinity) {
      this.rootLow = this.rootHigh = root;
      this.rootBase = 0;
    } else if (isKernel) {
      // The kernel has no TTBR0 half (TCR.EPD0 / TTBCR.PD0 set): a walk there faults.
      this.rootLow = -1;
      this.rootHigh = root;
      this.rootBase = space.format.kernelRootBase ?? split;
    } else {
      this.rootLow = root;
      this.rootHigh = space.kernel === null ? -1 : space.kernel.root;
      this.rootBase = 0;
    }
  }

  // The root the walk of page `vpn` starts from, -1 when that half has none.
  private walkRoot(vpn: number): number {
    return vpn < this.splitVpn ? this.rootLow : this.rootHigh;
  }

  // Index of page `vpn` in a table at hardware `level` (0 = leaf table): `>>>` only while `vpn` fits 32 bits. The
  // mask is a field: `2 ** bits` is a call to Math.pow on every enter otherwise.
  private indexAt(vpn: number, level: number): number {
    const shift = this.leafShift * level;
    return (vpn < 2147483648 ? vpn >>> shift : Math.floor(vpn / 2 ** shift)) & this.indexMask;
  }

  // Bytes of one entry of a table at `level` (the root's may be a group of PTEs).
  private entryBytes(level: number): number {
    return level === this.format.levels - 1 ? this.rootStride : this.format.pteSize;
  }

  // Entries of a table at `level` of this space.
  private entriesAt(level: number): number {
    return level === this.format.levels - 1 ? this.rootEntries : 2 ** this.format.indexBits;
  }

  // Links the pointer entry at `addr` (at `level`) to the table at `pa`.
  private writePointer(addr: number, pa: number, level: number): void {
    const f = this.format;
    if (level === f.levels - 1 && f.writePointer !== undefined) {
      f.writePointer(this.mem, addr, pa);
      return;
    }
    this.mem.write32(addr, f.pointerLo(pa));
    if (f.pteSize === 8) this.mem.write32(addr + 4, f.pointerHi(pa));
  }

  // True when a descriptor of the root group at `addr` past its first is valid (formats whose root entries are
  // groups of descriptors; false for every other).
  private groupInUse(addr: number): boolean {
    const size = this.format.pteSize;
    for (let j = 1; j < this.rootSub; j++) if ((this.mem.read32(addr + j * size) & this.upperValid) !== 0) return true;
    return false;
  }

  // The physical address of the leaf `lo`/`hi` at `level` whose span starts at page `vpn`, as the walk reads it.
  private leafFrameOf(lo: number, hi: number, level: number, vpn: number): number {
    const f = this.format;
    return f.leafFrame !== undefined ? f.leafFrame(lo, hi, level, vpn) : f.frameOf(lo, hi);
  }

  // Zeroes the entry at `addr` (at `level`), every PTE of a root group.
  private clearEntry(addr: number, level: number): void {
    const bytes = this.entryBytes(level);
    for (let b = 0; b < bytes; b += 4) this.mem.write32(addr + b, 0);
  }

  /**
   * @internal Boots a kernel address space; see `PmapFactory.createKernel`. A board with RAM the format's leaves
   * cannot address (ia32: at or above 4 GiB, where 32-bit PTEs end) → `EINVAL`: the allocator would hand out
   * frames no PTE can map.
   */
  static createKernel(format: PagingFormat, mem: PhysicalMemory, alloc: PageAllocator, board: BoardMemoryMap): MmuPmap {
    if (alloc === null || typeof alloc !== 'object' || alloc.pageSize !== PAGE_SIZE) {
      throw new VmError('EINVAL', `${format.name} needs an allocator with pageSize ${PAGE_SIZE}, got ${hex(alloc?.pageSize)}`);
    }
    if (alloc.mem !== mem) throw new VmError('EINVAL', 'alloc must allocate from mem');
    if (board === null || typeof board !== 'object' || !Array.isArray(board.banks)) {
      throw new VmError('EINVAL', `board must be a BoardMemoryMap, got ${hex(board)}`);
    }
    for (const b of board.banks) {
      if (b.base + b.size > format.paLimit) {
        throw new VmError(
          'EINVAL',
          `board ${board.name} has RAM up to ${hex(b.base + b.size)}; ${format.name} page tables map physical addresses below ${hex(format.paLimit)} only`,
        );
      }
    }
    const ramSize = board.ramSize;
    const space: KernelSpace = {
      format,
      mem,
      alloc,
      users: new Set(),
      kernel: null,
      active: null,
      bootEndVpn: 0,
      asids: format.asids > 0 ? new AsidAllocator<MmuPmap>(format.asids) : null,
    };
    const root = allocTable(alloc, rootBytesOf(format, true));
    if (root < 0) throw new VmError('ENOMEM', `no frame for the ${format.name} kernel root table`);
    const k = new MmuPmap(space, true, root);
    space.kernel = k;
    const [start] = format.kernelRange;
    const end = start + format.bootExpand(ramSize);
    space.bootEndVpn = end / PAGE_SIZE;
    const span = PAGE_SIZE * 2 ** format.indexBits;
    for (let va = start; va < end; va += span) {
      if (k.leafTable(va / PAGE_SIZE) < 0) {
        k.destroy();
        throw new VmError('ENOMEM', `no frame for the ${format.name} kernel page table of ${hex(va)}`);
      }
    }
    space.active = k;
    return k;
  }

  /** @internal A user address space sharing `kernel`'s kernel half; see `PmapFactory.createUser`. */
  static createUser(format: PagingFormat, kernel: unknown): MmuPmap {
    if (!(kernel instanceof MmuPmap) || !kernel.isKernel || kernel.format !== format) {
      throw new VmError('EINVAL', `kernelPmap must be a ${format.name} kernel pmap made by createKernel`);
    }
    if (kernel.dead) throw new VmError('EINVAL', 'kernelPmap was destroyed');
    const { space } = kernel;
    const root = allocTable(space.alloc, rootBytesOf(format, false));
    if (root < 0) throw new VmError('ENOMEM', `no frame for a ${format.name} user root table`);
    const mem = space.mem;
    const size = format.pteSize;
    // The kernel half is shared by copying the kernel's root entries: its lower tables exist from boot on.
    for (let i = format.kernelRootFirst; i < format.kernelRootEnd; i++) {
      const lo = mem.read32(kernel.root + i * size);
      if (lo !== 0) mem.write32(root + i * size, lo);
      if (size === 8) {
        const hi = mem.read32(kernel.root + i * size + 4);
        if (hi !== 0) mem.write32(root + i * size + 4, hi);
      }
    }
    const user = new MmuPmap(space, false, root);
    space.users.add(user);
    return user;
  }

  /**
   * The hot path, shaped like v86's `translate_address`: two loads from one slot of one `Int32Array` — the page
   * number, compared with `va >>> 12`, and the hit word, tested for the access code's kinds, whose frame bits are
   * ORed with the page offset (see {@link Tlb}). Both arguments must be numbers first: a BigInt would throw in the first shift, and a numeric
   * string would pass the compare. `va === va >>> 0` admits integers in `[0, 2^32)` only (V8 drops it when `va` is
   * already a uint32), so a fraction, NaN, a negative or a Sv39 address at or above 4 GiB never hits here; an access
   * code outside 1–15, or without a kind, fails the last two tests; a slot whose frame lies at or above 4 GiB has no
   * kinds in its hit word. Everything else — junk, misses, and the TLB hits this test leaves out — goes to
   * `translateSlow`, which tests the same slot again before walking. A hit is a uint32 made with integer
   * operations, which V8 keeps in an integer register.
   */
  translate(va: number, access: number): number {
    if (typeof va === 'number' && typeof access === 'number') {
      const vpn = va >>> 12;
      const e = this.tlbEntries;
      // 255 = TLB_SIZE - 1, written as a literal so the hit path reads no module-scope binding.
      const k = (vpn & 255) << 2;
      const need = (access & 7) << (access & 8);
      const w = e[k + 1];
      if (e[k] === vpn && (w & need) === need && va === va >>> 0 && access === (access & 15) && need !== 0) {
        this.slotHits[vpn & 255]++;
        return ((w & -4096) | (va & 4095)) >>> 0;
      }
    }
    const r = this.translateSlow(va, access);
    // 1: the slot of `va` now holds its frame, below 4 GiB: the answer is made as a hit's, from int32 slot data
    // (no double crosses the call, none is read back).
    if (r > 0) return ((this.tlbEntries[(((va >>> 12) & 255) << 2) + 1] & -4096) | (va & 4095)) >>> 0;
    if (r < 0) return r | 0;
    // 0: a frame at or above 4 GiB, in `out`. The address, written so V8 types it as an integer within ±2^52
    // (translateSlow keeps it below 2^52): merged with the hit's uint32, the result then stays an integer in a
    // caller that folds it into an int, instead of costing an int→double→int round trip per access. It comes
    // through `out`, not as the call's result, so it is never boxed when translateSlow is not inlined.
    const pa = this.out[0];
    return pa < 4294967296 ? pa >>> 0 : ((pa / 4294967296) & 0xf_ffff) * 4294967296 + (pa >>> 0);
  }

  /**
   * The TLB's own arrays, for an emulator that inlines the hit test in its loop, as v86's memory functions read
   * `tlb_data` (see {@link TlbView} for the rule). The view is the same object, over the same arrays, for the life
   * of this address space: invalidation, `protect`, `remove`, re-`enter`, kernel shootdowns, `flushTlb` and
   * `destroy` clear slots in place. Hits served through it are not counted in `stats().tlbHits`.
   */
  tlbView(): TlbView {
    return this.view;
  }

  // The miss: checks, walk, TLB fill. Returns 1 when the slot of `va` holds its frame, below 4 GiB (translate makes
  // the address from it), 0 with the physical address in out[0] (a frame at or above 4 GiB), or a negative FaultCode.
  private translateSlow(va: number, access: number): number {
    const f = this.format;
    if (
      typeof va !== 'number' ||
      // An integer below 2^32 is in range for both formats: tested without reading the format's limit (a boxed
      // double, three dependent loads that the miss set's page tables have usually pushed out of L1).
      (va !== va >>> 0 && !(va >= 0 && va < f.vaLimit && va === Math.floor(va))) ||
      typeof access !== 'number' ||
      // isAccessCode, written out: the miss path calls nothing it does not have to.
      access !== (access & 15) ||
      (access & 7) === 0 ||
      this.dead
    ) {
      return this.reject(va, access);
    }
    // Below 2^32 the page number is an integer shift: Math.floor(va / 4096) is a chain of double operations
    // (convert, multiply, round, convert back and check) that perf showed as a sixth of a Sv39 miss.
    let vpn: number;
    if (va === va >>> 0) vpn = va >>> 12;
    else {
      vpn = Math.floor(va / 4096);
      // A page number past int32 (AArch64 from 8 TiB up) is tagged apart in the TLB: a path of its own.
      if (vpn > 2147483647) return this.translateBig(va, vpn, access);
    }
    const out = this.out;
    // The hits `translate`'s inline test leaves out: a Sv39 address at or above 4 GiB, a frame at or above 4 GiB.
    const e = this.tlbEntries;
    // 255 = TLB_MASK, 63 = WALK_CACHE_SIZE - 1: literals, so the miss reads no module-scope binding.
    const k = (vpn & 255) << 2;
    if (e[k] === vpn) {
      const w = e[k + 1];
      const info = e[k + 2];
      if (w !== 0) {
        // Below 4 GiB (a Sv39 address at or above 4 GiB): the hit word's test.
        const need = (access & 7) << (access & 8);
        if ((w & need) === need) {
          this.tlbHits++;
          return 1;
        }
      } else if (((info >>> access) & 1) === 1) {
        // At or above 4 GiB: words 2–3.
        this.tlbHits++;
        out[0] = (info >>> 16) * 4294967296 + ((e[k + 3] | (va - vpn * 4096)) >>> 0);
        return 0;
      }
    }
    this.tlbMisses++;
    // The walk cache's leaf table first, here rather than in the walk: the usual miss then passes no double (the
    // root's address) to a call, which would box it.
    const key = vpn >>> this.leafShift;
    const c = key & 63;
    const words = this.wcKey[c] === key ? this.wcWords[c] : null;
    if (words !== null) {
      // The usual miss: the leaf read from the table's view and the slot filled with int32 operations only.
      const r = f.leafFill(words, vpn, this.wcBits[c], access, e, k, out);
      if (r === 1 || r < 0) return r;
      if (r === 2) {
        out[0] = (e[k + 2] >>> 16) * 4294967296 + ((e[k + 3] | (va - vpn * 4096)) >>> 0);
        return 0;
      }
      out[0] += va - vpn * 4096;
      return 0;
    }
    const root = vpn < this.splitVpn ? this.rootLow : this.rootHigh;
    if (root < 0) return FaultCode.NOT_MAPPED;
    const r = f.walk(this.mem, root, vpn, access, out, this.walkCache);
    if (r < 0) return r;
    const pa = out[0];
    // Only a leaf written by hand reaches 2^52 (4 PiB; `enter` refuses such frames): the bus would fault there.
    if (pa >= 4503599627370496) return FaultCode.BAD_ADDRESS;
    // Tlb.fill, written out so no double (the frame's address) is passed to a call.
    const high = pa < 4294967296 ? 0 : Math.floor(pa / 4294967296);
    if (high <= 0xffff) {
      const perm = out[1];
      e[k] = vpn;
      if (high === 0) {
        // The hit word (Tlb's hitWord, written out: the miss path calls nothing it does not have to).
        e[k + 1] = (pa & -4096) | ((perm >>> 1) & 0x303) | ((perm >>> 2) & 0x404);
        return 1;
      }
      e[k + 1] = 0;
      e[k + 2] = perm | (high << 16);
      e[k + 3] = pa;
    }
    // The answer goes back through `out` (see translate): 0 here means "out[0] holds it".
    out[0] = pa + (va - vpn * 4096);
    return 0;
  }

  // translateSlow for a page number at or above 2^31: its TLB slot is tagged BIG_TAG with the page number in
  // `Tlb.big`, so only this path hits it. Same results as translateSlow.
  private translateBig(va: number, vpn: number, access: number): number {
    const out = this.out;
    const tlb = this.tlb;
    const e = this.tlbEntries;
    const s = vpn & 255;
    const k = s << 2;
    const off = va - vpn * 4096;
    if (e[k] === BIG_TAG && tlb.big[s] === vpn) {
      const w = e[k + 1];
      if (w !== 0) {
        const need = (access & 7) << (access & 8);
        if ((w & need) === need) {
          this.tlbHits++;
          return 1;
        }
      } else if (((e[k + 2] >>> access) & 1) === 1) {
        this.tlbHits++;
        out[0] = (e[k + 2] >>> 16) * 4294967296 + ((e[k + 3] | off) >>> 0);
        return 0;
      }
    }
    this.tlbMisses++;
    const root = this.walkRoot(vpn);
    if (root < 0) return FaultCode.NOT_MAPPED;
    const r = this.format.walk(this.mem, root, vpn, access, out, this.walkCache);
    if (r < 0) return r;
    const pa = out[0];
    if (pa >= 4503599627370496) return FaultCode.BAD_ADDRESS;
    tlb.fill(vpn, pa, out[1]);
    if (pa < 4294967296 && e[k + 1] !== 0) return 1;
    out[0] = pa + off;
    return 0;
  }

  // The answer for an access the walk never sees: junk (not an integer address, not an access code) is
  // BAD_ADDRESS; an integer address the format cannot translate is its `badVaCode` (Sv39: NON_CANONICAL).
  private reject(va: unknown, access: unknown): number {
    if (typeof va !== 'number' || !Number.isInteger(va) || typeof access !== 'number' || !isAccessCode(access)) {
      return FaultCode.BAD_ADDRESS;
    }
    if (va < 0 || va >= this.format.vaLimit) return this.format.badVaCode;
    return FaultCode.NOT_MAPPED;
  }

  resolve(va: number): number {
    if (this.dead || typeof va !== 'number' || !Number.isSafeInteger(va) || va < 0 || va >= this.format.vaLimit) {
      return -1;
    }
    this.probes++;
    const vpn = Math.floor(va / PAGE_SIZE);
    const root = this.walkRoot(vpn);
    if (root < 0) return -1;
    const r = this.format.walk(this.mem, root, vpn, 0, this.out, null);
    return r < 0 ? -1 : this.out[0] + (va - vpn * PAGE_SIZE);
  }

  enter(pa: number, va: number, attr: number): number {
    this.checkLive('enter');
    checkAddress('va', va, PAGE_SIZE, this.range[0], this.range[1]);
    checkAddress('pa', pa, PAGE_SIZE, 0, this.format.paLimit);
    checkAttr(attr);
    const vpn = va / PAGE_SIZE;
    const table = this.leafTable(vpn);
    if (table < 0) return FaultCode.NO_MEMORY;
    const f = this.format;
    const mem = this.mem;
    const addr = table + this.indexAt(vpn, 0) * f.pteSize;
    const oldLo = mem.read32(addr);
    if ((oldLo & this.leafValid) !== 0 && f.leafPages !== undefined && f.leafPages(oldLo, this.hiAt(addr), 0) > 1) {
      throw new VmError('EINVAL', `va ${hex(va)} lies inside a large page written by hand`);
    }
    mem.write32(addr, f.leafLo(pa, attr));
    if (f.pteSize === 8) mem.write32(addr + 4, f.leafHi(pa, attr));
    if (oldLo & this.leafValid) {
      this.dropPage(vpn);
      this.shotDown();
    }
    return 0;
  }

  remove(vstart: number, vend: number): void {
    this.checkLive('remove');
    checkRange(vstart, vend, PAGE_SIZE, this.range[0], this.range[1]);
    if (vstart === vend) return;
    this.rangeOp(vstart, vend, -1);
  }

  protect(vstart: number, vend: number, attr: number): void {
    this.checkLive('protect');
    checkRange(vstart, vend, PAGE_SIZE, this.range[0], this.range[1]);
    checkAttr(attr);
    if (vstart === vend) return;
    this.rangeOp(vstart, vend, attr);
  }

  /**
   * The accessed bit (Sv39 A, ia32 A) of the leaf PTE mapping the page of `va`, read from RAM; with `clear === true`
   * cleared there, and when it was set in a valid leaf the page's TLB slots are dropped (`sfence.vma va` /
   * `invlpg`), in every address space for a kernel-half page. See `Pmap.referenced`.
   */
  referenced(va: number, clear?: boolean): boolean {
    return this.leafBit('referenced', va, clear, false);
  }

  /**
   * The dirty bit (Sv39 D, ia32 D) of the leaf PTE mapping the page of `va`; with `clear === true` cleared, and the
   * page's TLB slots dropped as for {@link referenced}, so the next write misses and sets D again. See `Pmap.dirty`.
   */
  dirty(va: number, clear?: boolean): boolean {
    return this.leafBit('dirty', va, clear, true);
  }

  // The accessed (dirty false) or dirty state of leaf words lo/hi.
  private leafState(lo: number, hi: number, dirty: boolean): boolean {
    const f = this.format;
    if (f.leafState !== undefined) return dirty ? f.leafState.dirty(lo, hi) : f.leafState.accessed(lo, hi);
    return (lo & (dirty ? f.dirtyBit : f.accessedBit)) !== 0;
  }

  // referenced/dirty: read (and clear) the accessed or dirty state of the leaf of `va`'s page.
  private leafBit(op: string, va: unknown, clear: unknown, dirty: boolean): boolean {
    const f = this.format;
    if (!f.capabilities.accessedDirty) {
      throw new VmError('ENOSYS', `${op}: ${f.name} page tables have no ${dirty ? 'dirty' : 'accessed'} bit`);
    }
    this.checkLive(op);
    if (typeof va !== 'number' || !Number.isSafeInteger(va) || va < 0 || va >= f.vaLimit) {
      throw new VmError('EINVAL', `${op}: va ${hex(va)} is not an address of the ${f.name} space [0, ${hex(f.vaLimit)})`);
    }
    if (clear !== undefined && typeof clear !== 'boolean') {
      throw new VmError('EINVAL', `${op}: clear must be a boolean or undefined, got ${hex(clear)}`);
    }
    this.probes++;
    const vpn = Math.floor(va / PAGE_SIZE);
    const level = this.findLeaf(vpn);
    if (level < 0) return false;
    const addr = this.out[0];
    const f2 = f;
    const lo = this.mem.read32(addr);
    const hi = f2.pteSize === 8 ? this.mem.read32(addr + 4) : 0;
    if (!this.leafState(lo, hi, dirty)) return false;
    if (clear === true) {
      if (f2.leafState !== undefined) {
        f2.leafState.clear(lo, hi, dirty, this.out);
        const nlo = this.out[0];
        const nhi = this.out[1];
        if (nlo !== lo) this.mem.write32(addr, nlo);
        if (nhi !== hi) this.mem.write32(addr + 4, nhi);
      } else this.mem.write32(addr, (lo & ~(dirty ? f2.dirtyBit : f2.accessedBit)) >>> 0);
      // A valid leaf may be cached: drop it, so the next access walks and sets the bit again. A not-present entry
      // (entered without PRESENT) is never cached. The walk cache holds pointer entries only: nothing to drop.
      if ((lo & (level === 0 ? this.leafValid : this.upperValid)) !== 0) this.dropLeaf(vpn, level);
    }
    return true;
  }

  /**
   * The PTE of the leaf mapping page `vpn`, by a walk that sets nothing: its physical address in `out[0]` and its
   * level as the result (0 = a 4 KiB page, above: a superpage written by hand), or -1 when nothing is entered
   * there. A level-0 entry that is not zero counts (one entered without PRESENT keeps its A/D bits); above level 0
   * only a valid leaf does.
   */
  private findLeaf(vpn: number): number {
    const f = this.format;
    const mem = this.mem;
    let table = this.walkRoot(vpn);
    if (table < 0) return -1;
    for (let level = f.levels - 1; level >= 0; level--) {
      const addr = table + this.indexAt(vpn, level) * this.entryBytes(level);
      const lo = mem.read32(addr);
      const hi = f.pteSize === 8 ? mem.read32(addr + 4) : 0;
      if (level === 0) {
        if (lo === 0 && hi === 0) return -1;
        this.out[0] = addr;
        return 0;
      }
      if ((lo & this.upperValid) === 0 || !f.isPointer(lo, level)) {
        // In a root group that is no pointer, the descriptor of `vpn`'s part of the span.
        const j = level === f.levels - 1 ? Math.floor(vpn / (2 ** (f.indexBits * level) / this.rootSub)) % this.rootSub : 0;
        const d = j === 0 ? lo : mem.read32(addr + j * f.pteSize);
        if ((d & this.upperValid) === 0 || f.isPointer(d, level)) return -1;
        this.out[0] = addr + j * f.pteSize;
        return level;
      }
      table = f.frameOf(lo, hi);
      // Only a table edited by hand points outside RAM: the hardware walk faults there, and so nothing is mapped.
      if (!mem.isRam(table, PAGE_SIZE)) return -1;
    }
    return -1;
  }

  // A bit of the valid leaf of page `vpn` (at `level`) was cleared: every TLB slot of the pages it maps is dropped
  // and the invalidation counted — for a kernel-half page in the kernel's TLB and every user's, the shootdown a
  // kernel `protect` does (the tables are shared, so a clear through a user space reaches them all as well).
  private dropLeaf(vpn: number, level: number): void {
    const pages = 2 ** (this.format.indexBits * level);
    const first = vpn - (vpn % pages);
    if (!this.isKernel && first * PAGE_SIZE < this.format.kernelRange[0]) {
      this.invalidateLeaf(first, pages);
      return;
    }
    const k = this.space.kernel;
    if (k !== null && !k.dead) k.invalidateLeaf(first, pages);
    for (const u of this.space.users) u.invalidateLeaf(first, pages);
  }

  private invalidateLeaf(first: number, pages: number): void {
    if (pages === 1) this.tlb.invalidatePage(first);
    else this.tlb.invalidateRange(first, first + pages);
    this.tlbFlushes++;
  }

  /**
   * Makes this the running address space (`satp`/`CR3`/TTBR0 loaded). A user space of a format with ASIDs takes one
   * here if it has none, as the original's `pmap_switch` does; when all are taken, another space's is recycled and
   * that space's TLB flushed (see {@link asid}).
   */
  activate(): void {
    this.checkLive('activate');
    const asids = this.space.asids;
    if (asids !== null && !this.isKernel) asids.assign(this, this.space.active);
    this.space.active = this;
  }

  /**
   * The hardware ASID this address space runs with (ARMv7-A: 8 bits, 1–255; AArch64: 16 bits, 1–65535), 0 while it
   * has none — before its first `activate`, after it lost its ASID to another space, for the kernel (its pages are
   * global), and on formats without ASIDs (Sv39 and ia32 here). Each space owns its software TLB, so the tag is
   * implicit; an ASID recycled to another space flushes this space's TLB, as `TLBIASID` would.
   */
  get asid(): number {
    const asids = this.space.asids;
    return asids === null ? 0 : asids.asidOf(this);
  }

  /** @internal The ASID allocator gave this space's ASID to another: its tagged TLB entries go (`TLBIASID`). */
  asidEvicted(): void {
    this.tlb.flush();
    this.tlbFlushes++;
  }

  /**
   * Access Flag faults and dirty-state Permission faults this address space's fault path served in software:
   * nonzero only for an AArch64 space made with `hardwareAccessFlag: false`, where the hardware does not set AF or
   * clear AP[2] itself. Each such fault costs a walk here exactly as the hardware update would; the count says how
   * many exceptions a real kernel would have taken.
   */
  softwareFaults(): number {
    return this.out[2];
  }

  /** True while this is the address space last activated. */
  get active(): boolean {
    return this.space.active === this;
  }

  destroy(): void {
    if (this.dead) return;
    if (this.isKernel && this.space.users.size > 0) {
      throw new VmError('EBUSY', `the kernel pmap still has ${this.space.users.size} user address space(s)`);
    }
    const f = this.format;
    const top = f.levels - 1;
    const [first, end] = this.ownedRootSpan(top);
    for (let i = first; i < end; i++) {
      const addr = this.root + i * this.rootStride;
      const lo = this.mem.read32(addr);
      if ((lo & 1) !== 0 && f.isPointer(lo, top)) this.freeTree(f.frameOf(lo, this.hiAt(addr)), top - 1);
    }
    this.space.alloc.free({ pa: this.root, order: Math.log2(this.rootBytes / PAGE_SIZE) });
    this.frames--;
    this.tlb.flush();
    this.walkCache.flush();
    this.space.asids?.release(this);
    this.dead = true;
    if (!this.isKernel) this.space.users.delete(this);
    if (this.space.active === this) this.space.active = null;
  }

  tables(): PmapTable[] {
    const out: PmapTable[] = [];
    if (this.dead) return out;
    const f = this.format;
    out.push({
      level: 0,
      pa: this.root,
      va: this.rootBase * PAGE_SIZE,
      entries: this.countEntries(this.root, f.levels - 1),
      span: this.entrySpan(f.levels - 1),
    });
    this.listTables(this.root, f.levels - 1, this.rootBase, out);
    return out;
  }

  stats(): PmapStats {
    return {
      tableFrames: this.frames,
      tlbHits: this.hits(),
      tlbMisses: this.tlbMisses,
      tlbFlushes: this.tlbFlushes,
      walks: this.tlbMisses + this.probes,
    };
  }

  // translate's hits: the slow path's count plus the per-slot counts of the inline test.
  private hits(): number {
    let n = this.tlbHits;
    const c = this.slotHits;
    for (let s = 0; s < c.length; s++) n += c[s];
    return n;
  }

  /**
   * Drops every cached translation (`sfence.vma` with no operands, a CR3 reload). Only needed after writing
   * table entries by hand: `enter`, `remove` and `protect` invalidate precisely on their own.
   */
  flushTlb(): void {
    this.tlb.flush();
    this.walkCache.flush();
    this.tlbFlushes++;
  }

  /** Translations cached in the TLB now. */
  tlbOccupancy(): number {
    return this.tlb.occupied();
  }

  /**
   * Verifies the invariants (see `Pmap.check`): every table this space owns is an allocated `PTABLE` frame reached
   * once and their number is `stats().tableFrames`; every present leaf (superpages written by hand included) maps
   * a device window, or RAM frames that are allocated and are not page tables; every walk-cache slot holds the
   * table a fresh walk finds; every TLB slot agrees with a fresh walk (same frame, no access allowed that the
   * tables refuse). A destroyed space holds nothing. Throws on the first broken one.
   */
  check(): void {
    if (this.dead) {
      invariant(this.frames === 0, `a destroyed ${this.format.name} pmap still counts ${this.frames} table frames`);
      invariant(this.tlb.occupied() === 0, `a destroyed ${this.format.name} pmap still caches translations`);
      return;
    }
    const f = this.format;
    const seen = new Set<number>();
    // A table in chunks that never held data reads as zeros: nothing to scan (most of ia32's 256 kernel tables).
    const backed = new Set<number>(this.mem.backedChunks());
    const holdsData = (pa: number, bytes: number): boolean => {
      for (let c = pa - (pa % CHUNK_SIZE); c < pa + bytes; c += CHUNK_SIZE) if (backed.has(c)) return true;
      return false;
    };
    const visit = (pa: number, level: number, base: number): void => {
      invariant(!seen.has(pa), `table ${hex(pa)} is linked twice`);
      seen.add(pa);
      const info = this.space.alloc.get(pa);
      invariant(info && !info.free && info.usage === PageUsage.PTABLE, `table ${hex(pa)} is not an allocated PTABLE frame`);
      if (!holdsData(pa, level === f.levels - 1 ? this.rootBytes : PAGE_SIZE)) return;
      const n = this.entriesAt(level);
      const span = 2 ** (f.indexBits * level);
      const [lo0, hi0] = this.ownedRootSpan(level);
      const words = this.tableWords(pa, level);
      const step = this.entryBytes(level) / 4;
      const valid = level === 0 ? this.leafValid : this.upperValid;
      const sub = this.entryBytes(level) / f.pteSize;
      for (let i = lo0; i < Math.min(n, hi0); i++) {
        const lo = words[i * step];
        const hi = f.pteSize === 8 ? words[i * step + 1] : 0;
        const vpn = base + i * span;
        if (sub > 1 && ((lo & valid) === 0 || !f.isPointer(lo, level))) {
          // A root group that is no pointer: each descriptor written by hand maps its own part of the span.
          const dspan = span / sub;
          for (let j = 0; j < sub; j++) {
            const d = words[i * step + j * (f.pteSize / 4)];
            if ((d & valid) === 0 || f.isPointer(d, level)) continue;
            const dv = vpn + j * dspan;
            this.checkLeaf(dv, this.leafFrameOf(d, 0, level, dv), dspan * PAGE_SIZE);
          }
          continue;
        }
        if ((lo & valid) === 0) continue;
        if (f.isPointer(lo, level)) visit(f.frameOf(lo, hi), level - 1, vpn);
        else this.checkLeaf(vpn, this.leafFrameOf(lo, hi, level, vpn), span * PAGE_SIZE);
      }
    };
    visit(this.root, f.levels - 1, this.rootBase);
    this.space.asids?.check();
    invariant(seen.size === this.frames, `${seen.size} tables reachable, ${this.frames} counted`);
    const wc = this.walkCache;
    for (let c = 0; c < wc.size; c++) {
      const key = wc.key[c];
      if (key < 0) continue;
      const root = this.walkRoot(key * 2 ** f.indexBits);
      const r = root < 0 ? -1 : f.leafTable(this.mem, root, key * 2 ** f.indexBits, this.out);
      const same = this.out[0] === wc.table[c] && this.out[1] === wc.bits[c];
      invariant(r === 0 && same, `walk cache slot ${c} holds a stale table for region ${hex(key)}`);
      // A view must be the table frame's live storage: one left over from a freed frame would read old bytes.
      const words = wc.words[c];
      invariant(
        words === null || words === frameWords(this.mem, wc.table[c]),
        `walk cache slot ${c} holds a stale view of table ${hex(wc.table[c])}`,
      );
    }
    const tlb = this.tlb;
    for (let s = 0; s < TLB_SIZE; s++) {
      const page = tlb.page(s);
      const perm = tlb.perm(s);
      const word = tlb.word(s);
      if (page < 0) {
        invariant(perm === 0 && word === 0, `empty TLB slot ${s} allows access codes ${hex(perm)} / kinds ${hex(word & 0xfff)}`);
        continue;
      }
      const vpn = page / PAGE_SIZE;
      invariant(Number.isInteger(vpn) && (vpn & TLB_MASK) === s, `TLB slot ${s} holds page ${hex(page)}`);
      invariant((perm & 0x101) === 0 && perm >>> 16 === 0, `TLB slot ${s} allows junk access codes ${hex(perm)}`);
      const root = this.walkRoot(vpn);
      const r = root < 0 ? -1 : f.walk(this.mem, root, vpn, 0, this.out, null);
      invariant(r >= 0 && this.out[0] === tlb.physical(page), `TLB slot ${s} maps page ${hex(page)} stale`);
      // A frame below 4 GiB lives in the hit word (its kinds are `perm`, checked against walks below), one above in
      // words 2–3 with a hit word of 0: no hit of the one-word test ever reaches it.
      const want = this.out[0] < 4294967296 ? hitWord(this.out[0], perm) : 0;
      invariant(word === want, `TLB slot ${s}: hit word ${hex(word >>> 0)}, the walk says ${hex(want >>> 0)}`);
      // A cached page was accessed, and one cached writable was written: a TLB entry that outlived a cleared A or D
      // would hide the next access (or write) from the tables. Checked before the probe walks below, which set them.
      const level = this.findLeaf(vpn);
      const leaf = level < 0 ? 0 : this.mem.read32(this.out[0]);
      const leafHi = level < 0 || f.pteSize === 4 ? 0 : this.mem.read32(this.out[0] + 4);
      const ad = f.capabilities.accessedDirty;
      invariant(!ad || this.leafState(leaf, leafHi, false), `TLB slot ${s} caches page ${hex(page)}, whose accessed bit is clear`);
      invariant(
        !ad || (perm & WRITE_CODES) === 0 || this.leafState(leaf, leafHi, true),
        `TLB slot ${s} lets writes hit page ${hex(page)}, whose dirty bit is clear`,
      );
      for (let a = 1; a < 16; a++) {
        if (((perm >>> a) & 1) === 0) continue;
        // A probe walk with the access: it may set A/D, which the cached permission implies were set already.
        const ok = f.walk(this.mem, root, vpn, a, this.out, null);
        invariant(ok >= 0, `TLB slot ${s} allows access ${a} to ${hex(vpn * PAGE_SIZE)}, the tables do not`);
      }
    }
  }

  // A present leaf of page `vpn` maps `bytes` from `pa`: a device window, or allocated RAM frames that are no table.
  private checkLeaf(vpn: number, pa: number, bytes: number): void {
    const va = vpn * PAGE_SIZE;
    if (this.mem.isRam(pa, bytes)) {
      const alloc = this.space.alloc;
      for (let p = pa; p < pa + bytes; ) {
        const info = alloc.get(p);
        invariant(info !== undefined && !info.free, `page ${hex(va)} maps frame ${hex(p)}, which is free`);
        invariant(info.usage !== PageUsage.PTABLE, `page ${hex(va)} maps frame ${hex(p)}, a page table`);
        p = info.pa + PAGE_SIZE * 2 ** info.order;
      }
      return;
    }
    const region = this.mem.board.regionAt(pa);
    invariant(
      region !== undefined && region.kind === 'device' && pa + bytes <= region.base + region.size,
      `page ${hex(va)} maps [${hex(pa)}, ${hex(pa + bytes)}), which is neither RAM nor a device window`,
    );
  }

  // --- tables -----------------------------------------------------------------------------------------------

  /**
   * The leaf table for page `vpn`, building the missing levels: every frame needed is allocated before any is
   * linked, so a failure leaves the tables as they were. Returns its address or `FaultCode.NO_MEMORY`.
   */
  private leafTable(vpn: number): number {
    const f = this.format;
    const mem = this.mem;
    let table = this.root;
    let level = f.levels - 1;
    for (; level > 0; level--) {
      const addr = table + this.indexAt(vpn, level) * this.entryBytes(level);
      const lo = mem.read32(addr);
      if ((lo & this.upperValid) === 0) {
        // A root group whose first descriptor is empty may still hold sections written by hand: linking a table
        // over the group would drop them.
        if (level === f.levels - 1 && this.groupInUse(addr)) {
          throw new VmError('EINVAL', `va ${hex(vpn * PAGE_SIZE)} shares its root entry with a section mapped by hand`);
        }
        break;
      }
      if (!f.isPointer(lo, level)) {
        throw new VmError('EINVAL', `va ${hex(vpn * PAGE_SIZE)} lies inside a superpage mapped at level ${level}`);
      }
      table = f.frameOf(lo, this.hiAt(addr));
    }
    if (level === 0) return table;
    const fresh: number[] = [];
    for (let i = 0; i < level; i++) {
      const pa = allocTable(this.space.alloc, PAGE_SIZE);
      if (pa < 0) {
        for (const p of fresh) this.space.alloc.free({ pa: p, order: 0 });
        return FaultCode.NO_MEMORY;
      }
      fresh.push(pa);
    }
    for (const pa of fresh) {
      const addr = table + this.indexAt(vpn, level) * this.entryBytes(level);
      this.writePointer(addr, pa, level);
      table = pa;
      level--;
    }
    this.frames += fresh.length;
    return table;
  }

  // May the table below a level-`level` entry covering page `vpn` be freed when empty? Every user table may. A
  // kernel table may only when it hangs below a table shared by pointer (never one a root entry points to: user
  // roots hold copies of those entries) and was not built at boot (the boot range stays expanded, as the original).
  private mayFree(level: number, vpn: number): boolean {
    return !this.isKernel || (level < this.format.levels - 1 && vpn >= this.space.bootEndVpn);
  }

  // remove (attr < 0) or protect (attr ≥ 0) over [vstart, vend).
  private rangeOp(vstart: number, vend: number, attr: number): void {
    const r = this.rangeIn(this.root, this.format.levels - 1, this.rootBase, vstart / PAGE_SIZE, vend / PAGE_SIZE, attr);
    if (r & CHANGED_PRESENT) this.shotDown();
  }

  private rangeIn(table: number, level: number, base: number, vs: number, ve: number, attr: number): number {
    const f = this.format;
    const mem = this.mem;
    const span = 2 ** (f.indexBits * level);
    const i0 = Math.floor((Math.max(vs, base) - base) / span);
    const i1 = Math.min(this.entriesAt(level), Math.ceil((ve - base) / span));
    let result = 0;
    for (let i = i0; i < i1; i++) {
      const addr = table + i * this.entryBytes(level);
      const lo = mem.read32(addr);
      const hi = f.pteSize === 8 ? mem.read32(addr + 4) : 0;
      if (lo === 0 && hi === 0) continue;
      const vpn = base + i * span;
      if (level > 0) {
        // Superpage leaves are never made here; one written by hand is left alone (and so is every descriptor of
        // a root group that is no pointer: ARMv7-A sections and supersections).
        if ((lo & this.upperValid) === 0 || !f.isPointer(lo, level)) continue;
        const child = f.frameOf(lo, hi);
        const r = this.rangeIn(child, level - 1, vpn, vs, ve, attr);
        result |= r & CHANGED_PRESENT;
        if (r & CLEARED && this.mayFree(level, vpn) && this.isEmpty(child)) {
          // An empty table goes back to the allocator at once.
          this.clearEntry(addr, level);
          this.freeFrame(child);
          // Walk caches may hold the freed table (or one below it): drop them, as sfence.vma does — in every
          // address space when the table was the kernel's.
          this.walkCache.flush();
          if (this.isKernel) for (const u of this.space.users) u.walkCache.flush();
          result |= CLEARED;
        }
        continue;
      }
      // Nor are leaves replicated by hand (ARMv7-A large pages): rewriting one entry would break the replication.
      if ((lo & this.leafValid) !== 0 && f.leafPages !== undefined && f.leafPages(lo, hi, 0) > 1) continue;
      if (attr < 0) {
        mem.write32(addr, 0);
        if (f.pteSize === 8) mem.write32(addr + 4, 0);
        result |= CLEARED;
      } else {
        const pa = f.frameOf(lo, hi);
        if (f.leafState !== undefined) {
          f.leafState.reprotect(lo, hi, attr, this.out);
          const nlo = this.out[0];
          const nhi = this.out[1];
          if (nlo !== lo) mem.write32(addr, nlo);
          if (nhi !== hi) mem.write32(addr + 4, nhi);
        } else {
          const nlo = (f.leafLo(pa, attr) + (lo & f.adBits)) >>> 0;
          if (nlo !== lo) mem.write32(addr, nlo);
          if (f.pteSize === 8) {
            const nhi = f.leafHi(pa, attr);
            if (nhi !== hi) mem.write32(addr + 4, nhi);
          }
        }
      }
      if (lo & this.leafValid) {
        this.dropPage(vpn);
        result |= CHANGED_PRESENT;
      }
    }
    return result;
  }

  // A valid leaf of page `vpn` changed: drop it from this TLB, and for the kernel half from every TLB.
  private dropPage(vpn: number): void {
    this.tlb.invalidatePage(vpn);
    if (this.isKernel) for (const u of this.space.users) u.tlb.invalidatePage(vpn);
  }

  // Counts the sfence.vma / invlpg batch that ended an operation, on every TLB it reached.
  private shotDown(): void {
    this.tlbFlushes++;
    if (this.isKernel) for (const u of this.space.users) u.tlbFlushes++;
  }

  // Frees the table at `table` (at `level`, 0 = leaf table) and every table below it.
  private freeTree(table: number, level: number): void {
    const f = this.format;
    if (level > 0) {
      const n = this.entriesAt(level);
      const stride = this.entryBytes(level);
      for (let i = 0; i < n; i++) {
        const addr = table + i * stride;
        const lo = this.mem.read32(addr);
        if ((lo & 1) !== 0 && f.isPointer(lo, level)) this.freeTree(f.frameOf(lo, this.hiAt(addr)), level - 1);
      }
    }
    this.freeFrame(table);
  }

  /**
   * Every present leaf of this address space's tables, in address order: its virtual and physical address, the
   * bytes it maps (4 KiB, or a superpage written by hand), the physical address of the PTE itself, and its flag
   * bits as `LeafBit` (read, write, execute, user, global, accessed, dirty). A user space lists its own half;
   * `{ kernel: true }` adds the shared kernel half (the kernel space always lists it). For reports and dumps
   * (`dumpTables`); reads the tables from RAM, touches no TLB and sets no bit. Empty after `destroy`.
   */
  leaves(options: { kernel?: boolean } = {}): PteLeaf[] {
    const out: PteLeaf[] = [];
    if (this.dead) return out;
    const top = this.format.levels - 1;
    this.leavesIn(this.root, top, this.rootBase, this.isKernel || options.kernel === true, out);
    // With two base registers the kernel half is the kernel's own table, walked from TTBR1.
    const k = this.space.kernel;
    if (!this.isKernel && options.kernel === true && this.splitVpn !== Infinity && k !== null && !k.dead) {
      k.leavesIn(k.root, top, k.rootBase, true, out);
    }
    return out;
  }

  private leavesIn(table: number, level: number, base: number, kernel: boolean, out: PteLeaf[]): void {
    const f = this.format;
    const n = this.entriesAt(level);
    const pages = 2 ** (f.indexBits * level);
    const words = this.tableWords(table, level);
    const step = this.entryBytes(level) / 4;
    // Descriptors of an entry (ARMv7-A's root groups: four level-1 descriptors) and the pages each maps.
    const sub = this.entryBytes(level) / f.pteSize;
    const dpages = pages / sub;
    const wpd = f.pteSize / 4;
    for (let i = 0; i < n; i++) {
      if (!kernel && level === f.levels - 1 && i >= f.kernelRootFirst && i < f.kernelRootEnd) continue;
      const lo = words[i * step];
      const hi = f.pteSize === 8 ? words[i * step + 1] : 0;
      const bits = f.leafBits(lo, hi, level);
      if (bits !== 0 && f.isPointer(lo, level)) {
        this.leavesIn(f.frameOf(lo, hi), level - 1, base + i * pages, kernel, out);
        continue;
      }
      // Otherwise each descriptor of the entry is a leaf of its own (one written by hand, in a group), or nothing.
      for (let j = 0; j < sub; ) {
        const d = i * sub + j;
        const r = this.pushLeaf(words, d, wpd, n * sub - d, table, level, base + d * dpages, dpages, out);
        // A leaf replicated over several groups (a supersection) skips the groups it covered.
        if (j + r > sub) {
          i += Math.floor((j + r) / sub) - 1;
          break;
        }
        j += r;
      }
    }
  }

  // Lists the leaf descriptor `d` of the table at `table` (`words`, `wpd` words a descriptor, `left` descriptors
  // from `d` to the table's end), mapping `pages` pages from page `vpn`: one leaf for it, or for it and its replicas
  // when it is the first of a leaf repeated in consecutive descriptors (ARMv7-A large pages and supersections, see
  // `PagingFormat.leafPages`), each replica otherwise listed as the part of the leaf the hardware reads through it.
  // Returns how many descriptors were listed.
  private pushLeaf(words: Uint32Array, d: number, wpd: number, left: number, table: number, level: number, vpn: number, pages: number, out: PteLeaf[]): number {
    const f = this.format;
    const lo = words[d * wpd];
    const hi = wpd === 2 ? words[d * wpd + 1] : 0;
    const bits = f.leafBits(lo, hi, level);
    if (bits === 0 || f.isPointer(lo, level)) return 1;
    const pte = table + d * f.pteSize;
    const total = f.leafPages === undefined ? pages : f.leafPages(lo, hi, level);
    const reps = total / pages;
    let whole = reps > 1 && vpn % total === 0 && reps <= left;
    for (let r = 1; whole && r < reps; r++) {
      whole = words[(d + r) * wpd] === lo && (wpd === 1 || words[(d + r) * wpd + 1] === hi);
    }
    if (whole) {
      out.push({ va: vpn * PAGE_SIZE, pa: this.leafFrameOf(lo, hi, level, vpn), size: total * PAGE_SIZE, pte, bits });
      return reps;
    }
    out.push({ va: vpn * PAGE_SIZE, pa: this.leafFrameOf(lo, hi, level, vpn), size: pages * PAGE_SIZE, pte, bits });
    return 1;
  }

  private listTables(table: number, level: number, base: number, out: PmapTable[]): void {
    if (level === 0) return;
    const f = this.format;
    const n = this.entriesAt(level);
    const span = 2 ** (f.indexBits * level);
    const [lo0, hi0] = this.ownedRootSpan(level);
    const depth = f.levels - level;
    for (let i = 0; i < n; i++) {
      if (level === f.levels - 1 && (i < lo0 || i >= hi0)) continue;
      const addr = table + i * this.entryBytes(level);
      const lo = this.mem.read32(addr);
      if ((lo & 1) === 0 || !f.isPointer(lo, level)) continue;
      const child = f.frameOf(lo, this.hiAt(addr));
      const va = (base + i * span) * PAGE_SIZE;
      out.push({ level: depth, pa: child, va, entries: this.countEntries(child, level - 1), span: this.entrySpan(level - 1) });
      this.listTables(child, level - 1, base + i * span, out);
    }
  }

  // Bytes one entry of a table at hardware `level` maps (0 = leaf table: one page).
  private entrySpan(level: number): number {
    return PAGE_SIZE * 2 ** (this.format.indexBits * level);
  }

  // Root indices whose tables this space owns: a user space does not own the shared kernel half.
  private ownedRootSpan(level: number): [number, number] {
    const f = this.format;
    if (level !== f.levels - 1 || this.isKernel) return [0, this.entriesAt(level)];
    return [0, Math.min(f.kernelRootFirst, this.rootEntries)];
  }

  // Entries in use in the table at `level` (a root group counts once).
  private countEntries(table: number, level: number): number {
    const words = this.tableWords(table, level);
    const step = this.entryBytes(level) / 4;
    let n = 0;
    for (let i = 0; i < words.length; i += step) {
      for (let w = 0; w < step; w++) {
        if (words[i + w] !== 0) {
          n++;
          break;
        }
      }
    }
    return n;
  }

  private isEmpty(table: number): boolean {
    const words = this.tableWords(table, 0);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
    return true;
  }

  // The words of the table at `table` (at `level`: the root may span several frames), read from RAM.
  private tableWords(table: number, level: number): Uint32Array {
    const size = level === this.format.levels - 1 ? this.rootBytes : PAGE_SIZE;
    const bytes = this.mem.read(table, size);
    return new Uint32Array(bytes.buffer, bytes.byteOffset, size / 4);
  }

  private hiAt(addr: number): number {
    return this.format.pteSize === 8 ? this.mem.read32(addr + 4) : 0;
  }

  private freeFrame(pa: number): void {
    this.space.alloc.free({ pa, order: 0 });
    this.frames--;
  }

  private checkLive(op: string): void {
    if (this.dead) throw new VmError('EINVAL', `${op} on a destroyed ${this.format.name} pmap`);
  }
}

// Bytes of the root table of a kernel or user space of `format`.
function rootBytesOf(format: PagingFormat, isKernel: boolean): number {
  const r = format.rootBytes;
  return r === undefined ? PAGE_SIZE : isKernel ? r.kernel : r.user;
}

// A table of `bytes` (a frame, or a power-of-two run for a larger root): a buddy block of that size, aligned to it
// within its bank as every buddy block is — which is the alignment TTBR needs on boards whose banks are aligned.
function allocTable(alloc: PageAllocator, bytes: number): number {
  const f = alloc.alloc(bytes, { owner: PageOwner.KERNEL, usage: PageUsage.PTABLE });
  // Frames come zeroed from the allocator (the original linked unzeroed pages as tables and relied on luck).
  if (f === null) return -1;
  if (f.pa % bytes !== 0) {
    // A bank that is not aligned to the table's size: the hardware could not use this block.
    alloc.free(f);
    return -1;
  }
  return f.pa;
}
