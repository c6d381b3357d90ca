import { Prot, VmError, hasOnlyBits, hex } from '@vmlayers/phys';
import type { BoardMemoryMap } from '@vmlayers/phys';

/** One loadable segment of a program image. */
export interface ImageSegment {
  /** Where it goes (page-aligned). Without an MMU only a hint: the segment goes where memory is. */
  vaddr: number;
  /** Bytes, rounded up to pages; past `data` the segment reads as zeros (bss). */
  size: number;
  /** `Prot` bits R/W/X (`USER` is added). */
  prot: number;
  /**
   * The segment's initial bytes (at most `size`). Mapped from a read-only object shared by every process spawned
   * from the same array; a writable segment gets a private copy of a page when the page is first written.
   */
  data?: Uint8Array;
  /**
   * The segment's bytes are already in the board's flash (a `reserved` region), at this page-aligned physical
   * address, `size` bytes of them: the original's loader on MCUs. A read-only segment (program text) is executed in
   * place — mapped where it lies, with no RAM taken and nothing copied; without an MMU it is at its flash address. A
   * writable one (initialised data) gets a private copy of those bytes in RAM. Not with `data` (`EINVAL`).
   */
  flash?: number;
}

/** A program image: what `vm.spawn(image)` maps into a new process. */
export interface Image {
  /**
   * The segments to map, in any order. With an MMU no two may overlap once rounded to whole pages (`EINVAL`).
   * An empty list spawns a process with an empty address space.
   */
  segments: ImageSegment[];
}

/** Validates an image before anything is mapped; bad input → `EINVAL` naming the field. */
export function checkImage(image: unknown, pageSize: number, hasMmu: boolean, board?: BoardMemoryMap): ImageSegment[] {
  if (image === null || typeof image !== 'object' || !Array.isArray((image as Image).segments)) {
    throw new VmError('EINVAL', `image must be { segments: [...] }, got ${hex(image)}`);
  }
  const given = (image as Image).segments;
  const segs: ImageSegment[] = [];
  // An index loop, not forEach: a sparse array's holes are bad segments, not absent ones.
  for (let i = 0; i < given.length; i++) {
    const s = given[i];
    const at = `image.segments[${i}]`;
    if (s === null || typeof s !== 'object') throw new VmError('EINVAL', `${at} must be an object, got ${hex(s)}`);
    const { vaddr, size, prot, data } = s;
    if (typeof vaddr !== 'number' || !Number.isSafeInteger(vaddr) || vaddr < 0 || (hasMmu && vaddr % pageSize !== 0)) {
      throw new VmError('EINVAL', `${at}.vaddr must be a ${pageSize}-byte-aligned address, got ${hex(vaddr)}`);
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
      throw new VmError('EINVAL', `${at}.size must be a positive integer, got ${hex(size)}`);
    }
    if (!Number.isSafeInteger(vaddr + Math.ceil(size / pageSize) * pageSize)) {
      throw new VmError('EINVAL', `${at}: vaddr ${hex(vaddr)} + size ${hex(size)} passes 2^53`);
    }
    if (!hasOnlyBits(prot, Prot.READ | Prot.WRITE | Prot.EXEC)) {
      throw new VmError('EINVAL', `${at}.prot must be Prot.READ/WRITE/EXEC bits, got ${hex(prot)}`);
    }
    if (data !== undefined && !(data instanceof Uint8Array)) throw new VmError('EINVAL', `${at}.data must be a Uint8Array, got ${hex(data)}`);
    if (data !== undefined && data.length > size) {
      throw new VmError('EINVAL', `${at}.data has ${data.length} bytes, more than its size ${size}`);
    }
    if (s.flash !== undefined) checkFlash(s.flash, size, data, pageSize, board, at);
    segs.push(s);
  }
  if (hasMmu) {
    const sorted = segs.map((s) => [s.vaddr, s.vaddr + Math.ceil(s.size / pageSize) * pageSize]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i][0] < sorted[i - 1][1]) throw new VmError('EINVAL', `image segments overlap at ${hex(sorted[i][0])}`);
    }
  }
  return segs;
}

// A segment's flash range: page-aligned, every page in a `reserved` region of the board (ROM, not RAM or a device).
function checkFlash(flash: unknown, size: number, data: unknown, pageSize: number, board: BoardMemoryMap | undefined, at: string): void {
  if (typeof flash !== 'number' || !Number.isSafeInteger(flash) || flash < 0 || flash % pageSize !== 0) {
    throw new VmError('EINVAL', `${at}.flash must be a ${pageSize}-byte-aligned physical address, got ${hex(flash)}`);
  }
  if (data !== undefined) throw new VmError('EINVAL', `${at}: give data or flash, not both (a flash segment's bytes are in flash)`);
  const end = flash + Math.ceil(size / pageSize) * pageSize;
  if (!Number.isSafeInteger(end)) throw new VmError('EINVAL', `${at}: flash ${hex(flash)} + size ${hex(size)} passes 2^53`);
  for (let p = flash; p < end && board !== undefined; p += pageSize) {
    const r = board.regionAt(p);
    if (r === undefined || r.kind !== 'reserved') {
      throw new VmError('EINVAL', `${at}.flash: 0x${p.toString(16)} is ${r === undefined ? 'not in the board\'s memory map' : `${r.kind} (${r.name}), not flash`}`);
    }
  }
}
