import type { BoardMemoryMap, MemoryRegion } from './board.js';
import { VmError } from './errors.js';
import { checkSize, checkUint, hex, isUint } from './validate.js';

/** Width of a device access in bytes: 1, 2 or 4 (`read8`/`write8` … `read32`/`write32`; bulk accesses use 1). */
export type AccessWidth = 1 | 2 | 4;

/**
 * Handlers of an MMIO window, registered with {@link PhysicalMemory.mapDevice}. `offset` is in bytes, relative to
 * the base given to `mapDevice`, and the whole access (`offset` … `offset + width − 1`) lies inside the window.
 * Called synchronously, once per access; an exception a handler throws reaches the caller of the access unchanged.
 */
export interface DeviceHandler {
  /**
   * A load of `width` bytes at `offset`. Returns the value read; it is taken as an unsigned 32-bit number
   * (`>>> 0`), so a handler should return a value below 2^(8·width).
   */
  read(offset: number, width: AccessWidth): number;
  /**
   * A store of `width` bytes at `offset`. `value` is already cut to the width: `0` … `2^(8·width) − 1`, unsigned.
   */
  write(offset: number, value: number, width: AccessWidth): void;
}

/**
 * Host memory is allocated in chunks of this many bytes, only for chunks that were ever written with something
 * other than zeros. 4 KiB matches the common page size; smaller pages zero part of a chunk instead of dropping it.
 */
export const CHUNK_SIZE = 4096;

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const DIR_SHIFT = 8;
const DIR_SPAN = 1 << DIR_SHIFT;
/**
 * Directory entries (1 MiB of RAM each) a bank keeps in a plain array: up to 64 GiB per bank, 512 KiB of pointers.
 * A larger bank keeps its directory in a `Map` of the tables written so far, so a board of any size a
 * `BoardMemoryMap` accepts (up to 2^53) costs nothing until it is written.
 */
const DENSE_DIR_MAX = 1 << 16;

interface Bank {
  readonly base: number;
  readonly end: number;
  // Base of the first chunk: banks need only be REGION_ALIGN-aligned.
  readonly chunkBase: number;
  // Chunk directory: one table of DIR_SPAN slots per DIR_SPAN chunks, made on first write. A slot is an index into
  // `pool`, 0 when the chunk was never written (reads as zeros). Untouched RAM costs one pointer per 1 MiB, in
  // `dir` for banks up to DENSE_DIR_MAX entries (chunk numbers below 2^24, so `k >> DIR_SHIFT` is exact), in
  // `sparse` (keyed by `Math.floor(k / DIR_SPAN)`) for larger ones; exactly one of the two is non-null.
  readonly dir: (Int32Array | undefined)[] | null;
  readonly sparse: Map<number, Int32Array> | null;
}

interface Device {
  readonly base: number;
  readonly end: number;
  readonly handler: DeviceHandler;
}

/**
 * The board's physical address space with real bytes. Sparse and lazily backed: a chunk gets host memory the
 * first time something non-zero is written to it, and gives it back when it is zeroed whole, so a frame that was
 * never written (or was freed) costs nothing and reads as zeros. Little-endian, like every target here.
 * Accesses outside RAM and device windows (and number addresses that are no address: NaN, fractions, negatives)
 * throw `VmError('EFAULT')`; addresses, lengths and values that are not numbers throw `VmError('EINVAL')`.
 */
export class PhysicalMemory {
  /** The board this memory models: its banks are the RAM, its `device` regions where windows may be mapped. */
  readonly board: BoardMemoryMap;
  private readonly banks: Bank[];
  private last: Bank;
  // pool[0] is never used so that slot value 0 can mean "unbacked".
  private readonly pool: (DataView | undefined)[] = [undefined];
  // The same chunks as 32-bit words, for aligned word accesses on a little-endian host (every host Node runs on
  // in practice; a big-endian one takes the DataView path).
  private readonly words: (Uint32Array | undefined)[] = [undefined];
  private readonly freeSlots: number[] = [];
  private readonly devices: Device[] = [];
  private backedCount = 0;

  /**
   * Any board a `BoardMemoryMap` accepts (up to 2^53 bytes); all RAM reads as zeros and no device window is mapped.
   * Up front it costs one directory slot per MiB of a bank up to 64 GiB, nothing for a larger bank; page contents
   * take host memory only when written. A value that is not a board → `VmError('EINVAL')`.
   */
  constructor(board: BoardMemoryMap) {
    if (board === null || typeof board !== 'object' || !Array.isArray(board.banks) || board.banks.length === 0) {
      throw new VmError('EINVAL', `board must be a BoardMemoryMap, got ${hex(board)}`);
    }
    this.board = board;
    this.banks = board.banks.map((b) => {
      const chunkBase = b.base - (b.base % CHUNK_SIZE);
      const chunks = Math.ceil((b.base + b.size - chunkBase) / CHUNK_SIZE);
      const entries = Math.ceil(chunks / DIR_SPAN);
      const dense = entries <= DENSE_DIR_MAX;
      return {
        base: b.base,
        end: b.base + b.size,
        chunkBase,
        dir: dense ? new Array<Int32Array | undefined>(entries).fill(undefined) : null,
        sparse: dense ? null : new Map<number, Int32Array>(),
      };
    });
    this.last = this.banks[0];
  }

  /**
   * Bytes of host memory holding page contents now: {@link CHUNK_SIZE} per chunk holding a non-zero byte. 0 on a
   * fresh board whatever its size.
   */
  get backedBytes(): number {
    return this.backedCount * CHUNK_SIZE;
  }

  /**
   * True when `[pa, pa+len)` (`len` in bytes, default 1) lies inside one bank of RAM (`ram` and `reserved`
   * regions), not a device window. A predicate: false, never an exception, for arguments that are not addresses.
   */
  isRam(pa: number, len = 1): boolean {
    if (!isUint(pa) || !isUint(len)) return false;
    return this.locate(pa, len) !== null;
  }

  /**
   * Physical addresses of the chunks that hold host memory now, ascending: each is the start of a
   * {@link CHUNK_SIZE}-byte chunk (which may begin before its bank when the bank is not chunk-aligned). Lazy; do
   * not write to this memory while iterating.
   */
  *backedChunks(): IterableIterator<number> {
    for (const b of this.banks) {
      if (b.dir !== null) {
        for (let d = 0; d < b.dir.length; d++) {
          const t = b.dir[d];
          if (t) for (let k = 0; k < DIR_SPAN; k++) if (t[k] !== 0) yield b.chunkBase + (d * DIR_SPAN + k) * CHUNK_SIZE;
        }
        continue;
      }
      for (const [d, t] of [...b.sparse!].sort((x, y) => x[0] - y[0])) {
        for (let k = 0; k < DIR_SPAN; k++) if (t[k] !== 0) yield b.chunkBase + (d * DIR_SPAN + k) * CHUNK_SIZE;
      }
    }
  }

  /**
   * The byte at physical address `pa`, `0` … `255`: from RAM (0 where never written), or from the device window
   * mapped there. Reading RAM never allocates host memory. Nothing at `pa` (a hole, an unmapped device region, a
   * negative or fractional address) → `VmError('EFAULT')`; a `pa` that is not a number → `VmError('EINVAL')`.
   */
  read8(pa: number): number {
    const b = this.locate(pa, 1);
    if (b === null) return this.deviceRead(pa, 1);
    const off = pa - b.chunkBase;
    const k = Math.floor(off / CHUNK_SIZE);
    const s = slot(b, k);
    return s === 0 ? 0 : this.pool[s]!.getUint8(off - k * CHUNK_SIZE);
  }

  /**
   * The little-endian 16-bit value at `pa`, `0` … `0xffff`. Any alignment; both bytes must lie in one bank or one
   * device window (`VmError('EFAULT')` otherwise); errors as {@link read8}.
   */
  read16(pa: number): number {
    const b = this.locate(pa, 2);
    if (b === null) return this.deviceRead(pa, 2);
    const off = pa - b.chunkBase;
    const k = Math.floor(off / CHUNK_SIZE);
    const within = off - k * CHUNK_SIZE;
    if (within > CHUNK_SIZE - 2) return this.read8(pa) | (this.read8(pa + 1) << 8);
    const s = slot(b, k);
    return s === 0 ? 0 : this.pool[s]!.getUint16(within, true);
  }

  /**
   * The little-endian 32-bit word at `pa`, as an unsigned number (`0` … `2^32 − 1`). Any alignment; the four
   * bytes must lie in one bank or one device window (`VmError('EFAULT')` otherwise); errors as {@link read8}.
   */
  read32(pa: number): number {
    const b = this.locate(pa, 4);
    if (b === null) return this.deviceRead(pa, 4);
    const off = pa - b.chunkBase;
    const k = Math.floor(off / CHUNK_SIZE);
    const within = off - k * CHUNK_SIZE;
    if (within > CHUNK_SIZE - 4) return (this.read16(pa) | (this.read16(pa + 2) << 16)) >>> 0;
    const s = slot(b, k);
    if (s === 0) return 0;
    return LITTLE_ENDIAN && (within & 3) === 0 ? this.words[s]![within >>> 2] : this.pool[s]!.getUint32(within, true);
  }

  /**
   * The {@link CHUNK_SIZE} bytes of RAM at `pa` as a live view of their storage: 1024 little-endian 32-bit words, or
   * `null` when the chunk holds no host memory (it reads as zeros, and nothing is allocated to answer) or the host
   * is big-endian. For walkers that read and update page tables in place (`@vmlayers/pmap-mmu`). A write through
   * the view is a write to RAM. The view is the chunk's storage until its host memory is dropped — a `zero` of the
   * whole chunk, which every free of a frame does — and stale after that (the chunk gets new storage on its next
   * non-zero write): a caller that keeps views must drop the view of a chunk it zeroes or frees. `pa` not a multiple
   * of `CHUNK_SIZE` or not inside a RAM bank → `VmError('EFAULT')`; not a number → `VmError('EINVAL')`.
   */
  frameWords(pa: number): Uint32Array | null {
    const b = this.locate(pa, CHUNK_SIZE);
    if (b === null || pa % CHUNK_SIZE !== 0) {
      throw new VmError('EFAULT', `frameWords(${hex(pa)}): not a ${CHUNK_SIZE}-byte aligned chunk of RAM`);
    }
    if (!LITTLE_ENDIAN) return null;
    const s = slot(b, (pa - b.chunkBase) / CHUNK_SIZE);
    return s === 0 ? null : this.words[s]!;
  }

  /**
   * Writes the low 8 bits of `value` (a number; anything else → `EINVAL`) at `pa`. Writing 0 to RAM that holds no
   * host memory allocates none. Where nothing answers → `VmError('EFAULT')`, as {@link read8}.
   */
  write8(pa: number, value: number): void {
    if (typeof value !== 'number') throw badValue(value);
    const b = this.locate(pa, 1);
    if (b === null) return this.deviceWrite(pa, value & 0xff, 1);
    const off = pa - b.chunkBase;
    const k = Math.floor(off / CHUNK_SIZE);
    const v = value & 0xff;
    const dv = slot(b, k) === 0 ? (v === 0 ? undefined : this.back(b, k)) : this.pool[slot(b, k)];
    dv?.setUint8(off - k * CHUNK_SIZE, v);
  }

  /**
   * Writes the low 16 bits of `value` (a number; anything else → `EINVAL`) at `pa`, little-endian, any alignment.
   * Both bytes must lie in one bank or one device window (`VmError('EFAULT')`).
   */
  write16(pa: number, value: number): void {
    if (typeof value !== 'number') throw badValue(value);
    const b = this.locate(pa, 2);
    if (b === null) return this.deviceWrite(pa, value & 0xffff, 2);
    const off = pa - b.chunkBase;
    const k = Math.floor(off / CHUNK_SIZE);
    const within = off - k * CHUNK_SIZE;
    const v = value & 0xffff;
    if (within > CHUNK_SIZE - 2) {
      this.write8(pa, v);
      this.write8(pa + 1, v >>> 8);
      return;
    }
    const dv = slot(b, k) === 0 ? (v === 0 ? undefined : this.back(b, k)) : this.pool[slot(b, k)];
    dv?.setUint16(within, v, true);
  }

  /**
   * Writes the low 32 bits of `value` (a number; anything else → `EINVAL`) at `pa`, little-endian, any alignment.
   * The four bytes must lie in one bank or one device window (`VmError('EFAULT')`).
   */
  write32(pa: number, value: number): void {
    if (typeof value !== 'number') throw badValue(value);
    const b = this.locate(pa, 4);
    if (b === null) return this.deviceWrite(pa, value >>> 0, 4);
    const off = pa - b.chunkBase;
    const k = Math.floor(off / CHUNK_SIZE);
    const within = off - k * CHUNK_SIZE;
    const v = value >>> 0;
    if (within > CHUNK_SIZE - 4) {
      this.write16(pa, v & 0xffff);
      this.write16(pa + 2, v >>> 16);
      return;
    }
    let s = slot(b, k);
    if (s === 0) {
      if (v === 0) return;
      this.back(b, k);
      s = slot(b, k);
    }
    if (LITTLE_ENDIAN && (within & 3) === 0) this.words[s]![within >>> 2] = v;
    else this.pool[s]!.setUint32(within, v, true);
  }

  /**
   * A copy of `len` bytes at `pa` (a new array; later writes do not show in it). The range must lie in one RAM bank
   * or in device windows, read byte by byte (`EFAULT`), and is checked before the result is allocated; a `len` that
   * is not an integer in `[0, 2^53)` → `EINVAL`; a result the host cannot allocate → `ENOMEM`. With `len` 0 only
   * `pa` is checked, for being an integer number.
   */
  read(pa: number, len: number): Uint8Array {
    checkUint('len', len);
    if (len === 0) {
      this.locate(pa, 0);
      return new Uint8Array(0);
    }
    const b = this.locate(pa, len);
    if (b === null) this.checkDeviceRange(pa, len);
    const out = buffer(pa, len);
    if (b === null) {
      for (let i = 0; i < len; i++) out[i] = this.deviceRead(pa + i, 1);
      return out;
    }
    this.eachPiece(b, pa, len, (dv, within, n, done) => {
      if (dv) out.set(new Uint8Array(dv.buffer, within, n), done);
    });
    return out;
  }

  /**
   * Writes `bytes` at `pa`. The range must lie in one RAM bank or in device windows (written byte by byte);
   * otherwise `VmError('EFAULT')`, nothing written. `bytes` not a `Uint8Array` → `VmError('EINVAL')`. Zero bytes
   * written to RAM that holds no host memory allocate none.
   */
  write(pa: number, bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new VmError('EINVAL', 'bytes must be a Uint8Array');
    const len = bytes.length;
    if (len === 0) {
      this.locate(pa, 0);
      return;
    }
    const b = this.locate(pa, len);
    if (b === null) {
      this.checkDeviceRange(pa, len);
      for (let i = 0; i < len; i++) this.deviceWrite(pa + i, bytes[i], 1);
      return;
    }
    this.eachPiece(b, pa, len, (dv, within, n, done, k) => {
      const src = bytes.subarray(done, done + n);
      if (dv) new Uint8Array(dv.buffer, within, n).set(src);
      else if (!isZero(src)) new Uint8Array(this.back(b, k).buffer, within, n).set(src);
    });
  }

  /**
   * Zeroes `len` bytes at `pa` in RAM; chunks zeroed whole give their host memory back. This is how freed frames
   * come to read as zeros, so it is written as a plain loop: it runs on every frame free. The range must lie in one
   * RAM bank: a device window or a hole → `VmError('EFAULT')`; a bad `len` → `VmError('EINVAL')`.
   */
  zero(pa: number, len: number): void {
    if (!Number.isSafeInteger(len) || len < 0) checkUint('len', len);
    if (len === 0) {
      this.locate(pa, 0);
      return;
    }
    const b = this.locate(pa, len);
    if (b === null) throw this.fault(pa, len, 'zero works on RAM only');
    if (this.backedCount === 0) return;
    let done = 0;
    while (done < len) {
      const off = pa + done - b.chunkBase;
      const k = Math.floor(off / CHUNK_SIZE);
      const within = off - k * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, len - done);
      const s = slot(b, k);
      if (s !== 0) {
        if (n === CHUNK_SIZE) this.unback(b, k);
        else {
          const buf = this.pool[s]!.buffer;
          new Uint8Array(buf, within, n).fill(0);
          // Pages smaller than a chunk: the last one freed gives the chunk back.
          if (isZero32(new Uint32Array(buf))) this.unback(b, k);
        }
      }
      done += n;
    }
  }

  /**
   * Copies `len` bytes from physical address `src` to `dst` (overlapping ranges allowed, as memmove). Each range
   * must lie in one RAM bank or in device windows; both are checked before anything is read or written
   * (`VmError('EFAULT')`, a bad `len` → `EINVAL`).
   */
  copy(dst: number, src: number, len: number): void {
    checkUint('len', len);
    if (len === 0) {
      this.locate(dst, 0);
      this.locate(src, 0);
      return;
    }
    if (this.locate(dst, len) === null) this.checkDeviceRange(dst, len);
    this.write(dst, this.read(src, len));
  }

  /**
   * Serves `[base, base+size)` (bytes) with `handler`: accesses there call it. The range must lie inside one of the
   * board's `device` regions (`EINVAL`) and not overlap a window already mapped (`EEXIST`); a `base` that is not an
   * integer in `[0, 2^53)`, a `size` that is not a positive one, or a handler without `read` and `write` functions
   * → `EINVAL`. Nothing is mapped on error.
   */
  mapDevice(base: number, size: number, handler: DeviceHandler): void {
    checkUint('base', base);
    checkSize('size', size);
    if (!handler || typeof handler.read !== 'function' || typeof handler.write !== 'function') {
      throw new VmError('EINVAL', 'handler must have read(offset, width) and write(offset, value, width)');
    }
    const region = this.deviceRegion(base, size);
    if (!region) {
      throw new VmError('EINVAL', `device window [${hex(base)}, ${hex(base + size)}) is not inside a device region of board ${this.board.name}`);
    }
    for (const d of this.devices) {
      if (base < d.end && d.base < base + size) {
        throw new VmError('EEXIST', `device window [${hex(base)}, ${hex(base + size)}) overlaps one at ${hex(d.base)}`);
      }
    }
    this.devices.push({ base, end: base + size, handler });
    this.devices.sort((a, b) => a.base - b.base);
  }

  /**
   * Removes the device window mapped at exactly `base` (`VmError('ENOENT')` if none starts there); accesses there
   * fault (`EFAULT`) again.
   */
  unmapDevice(base: number): void {
    const i = this.devices.findIndex((d) => d.base === base);
    if (i < 0) throw new VmError('ENOENT', `no device window at base ${hex(base)}`);
    this.devices.splice(i, 1);
  }

  // The bank holding all of [pa, pa+len), or null. Remembers the last bank: accesses cluster. `len` is a checked
  // number; `pa` may be anything until Number.isInteger says otherwise (`b.end - len` keeps a BigInt `pa` out of
  // arithmetic, which would throw a TypeError).
  private locate(pa: number, len: number): Bank | null {
    const b = this.last;
    if (pa >= b.base && pa <= b.end - len && Number.isInteger(pa)) return b;
    return this.locateSlow(pa, len);
  }

  private locateSlow(pa: number, len: number): Bank | null {
    if (typeof pa !== 'number') throw new VmError('EINVAL', `physical address must be a number, got ${hex(pa)}`);
    if (!Number.isSafeInteger(pa)) {
      throw new VmError('EFAULT', `physical address ${String(pa)} is not an integer address`);
    }
    for (const b of this.banks) {
      if (pa >= b.base && pa + len <= b.end) {
        this.last = b;
        return b;
      }
    }
    return null;
  }

  // Calls fn per chunk piece of [pa, pa+len) inside bank b, in address order.
  private eachPiece(
    b: Bank,
    pa: number,
    len: number,
    fn: (dv: DataView | undefined, within: number, n: number, done: number, k: number) => void,
  ): void {
    let done = 0;
    while (done < len) {
      const off = pa + done - b.chunkBase;
      const k = Math.floor(off / CHUNK_SIZE);
      const within = off - k * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, len - done);
      const s = slot(b, k);
      fn(s === 0 ? undefined : this.pool[s], within, n, done, k);
      done += n;
    }
  }

  private back(b: Bank, k: number): DataView {
    const dv = new DataView(new ArrayBuffer(CHUNK_SIZE));
    let s = this.freeSlots.pop();
    if (s === undefined) {
      s = this.pool.length;
      this.pool.push(dv);
      this.words.push(new Uint32Array(dv.buffer));
    } else {
      this.pool[s] = dv;
      this.words[s] = new Uint32Array(dv.buffer);
    }
    let t = dirTable(b, k);
    if (t === undefined) {
      t = new Int32Array(DIR_SPAN);
      if (b.dir !== null) b.dir[k >> DIR_SHIFT] = t;
      else b.sparse!.set(Math.floor(k / DIR_SPAN), t);
    }
    t[k & (DIR_SPAN - 1)] = s;
    this.backedCount++;
    return dv;
  }

  private unback(b: Bank, k: number): void {
    const s = slot(b, k);
    this.pool[s] = undefined;
    this.words[s] = undefined;
    this.freeSlots.push(s);
    dirTable(b, k)![k & (DIR_SPAN - 1)] = 0;
    this.backedCount--;
  }

  private deviceRegion(base: number, size: number): MemoryRegion | undefined {
    return this.board.regions.find((r) => r.kind === 'device' && base >= r.base && base + size <= r.base + r.size);
  }

  private device(pa: number, width: number): Device | undefined {
    for (const d of this.devices) if (pa >= d.base && pa + width <= d.end) return d;
    return undefined;
  }

  private checkDeviceRange(pa: number, len: number): void {
    for (let a = pa; a < pa + len; ) {
      const d = this.device(a, 1);
      if (!d) {
        if (a === pa && len === 1) throw this.fault(a, 1, 'not RAM and no device answers there');
        throw this.fault(pa, len, `not inside one RAM bank or device windows (nothing answers at ${hex(a)})`);
      }
      a = d.end;
    }
  }

  private deviceRead(pa: number, width: AccessWidth): number {
    const d = this.device(pa, width);
    if (!d) throw this.fault(pa, width, 'not RAM and no device answers there');
    return d.handler.read(pa - d.base, width) >>> 0;
  }

  private deviceWrite(pa: number, value: number, width: AccessWidth): void {
    const d = this.device(pa, width);
    if (!d) throw this.fault(pa, width, 'not RAM and no device answers there');
    d.handler.write(pa - d.base, value, width);
  }

  private fault(pa: number, len: number, why: string): VmError {
    return new VmError('EFAULT', `physical range [${hex(pa)}, ${hex(pa + len)}) on board ${this.board.name}: ${why}`);
  }
}

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function isZero32(words: Uint32Array): boolean {
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}

// The directory table of chunk k of bank b, if made. `k & (DIR_SPAN - 1)` is exact for any chunk number below
// 2^53 (the bit operators keep the low 32 bits); `k >> DIR_SHIFT` only below 2^31, hence the sparse directory.
function dirTable(b: Bank, k: number): Int32Array | undefined {
  return b.dir !== null ? b.dir[k >> DIR_SHIFT] : b.sparse!.get(Math.floor(k / DIR_SPAN));
}

// The pool index of chunk k of bank b (0 = never written).
function slot(b: Bank, k: number): number {
  const t = dirTable(b, k);
  return t === undefined ? 0 : t[k & (DIR_SPAN - 1)];
}

function badValue(value: unknown): VmError {
  return new VmError('EINVAL', `value must be a number, got ${hex(value)}`);
}

// The result buffer of a bulk read: a length the host cannot allocate is ENOMEM, not a RangeError.
function buffer(pa: number, len: number): Uint8Array {
  try {
    return new Uint8Array(len);
  } catch {
    throw new VmError('ENOMEM', `no host memory for a ${hex(len)}-byte read at ${hex(pa)}`);
  }
}
