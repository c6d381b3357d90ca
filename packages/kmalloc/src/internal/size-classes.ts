/** Smallest block: 16 bytes. */
const MIN = 16;
/** Largest block: 8 MiB. */
const MAX = 2 ** 23;

/** The block sizes of a class table, smallest first, and how each class's zones are sized. */
export interface SizeClasses {
  /** 1: the original's power-of-two classes; 4: four classes per octave (2^k × 5/4, 6/4, 7/4, 8/4). */
  readonly perOctave: 1 | 4;
  readonly size: Float64Array;
  /** Blocks per zone. */
  readonly blocks: Int32Array;
  /** Pages per zone. */
  readonly pages: Int32Array;
}

/**
 * The class table. Zone sizing is the original's for its power-of-two classes: one page for classes up to a page
 * (at least `minHeaderBlocks` blocks for the descriptor class), one block for larger classes. A finer class up to
 * a page takes the fewest pages (1, 2, 4 or 8, a power of two as the buddy below hands out) that leave at most a
 * sixteenth of the zone uncovered, as Linux's SLUB sizes its slabs; otherwise the least wasteful of those.
 */
export function sizeClasses(perOctave: 1 | 4, pageSize: number, headerSize: number, minHeaderBlocks: number): SizeClasses {
  const sizes: number[] = [MIN];
  for (let e = 4; 2 ** e < MAX; e++) {
    if (perOctave === 1) sizes.push(2 ** (e + 1));
    else for (let j = 1; j <= 4; j++) sizes.push(2 ** e + j * 2 ** (e - 2));
  }
  const n = sizes.length;
  const blocks = new Int32Array(n);
  const pages = new Int32Array(n);
  for (let c = 0; c < n; c++) {
    const size = sizes[c];
    let b: number;
    if (size === headerSize) b = Math.max(minHeaderBlocks, Math.floor(pageSize / size));
    else if (size >= pageSize) b = 1;
    else if ((size & (size - 1)) === 0) b = pageSize / size;
    else {
      let best = 1;
      let bestWaste = 1;
      for (let p = 1; p <= 8; p *= 2) {
        const waste = ((p * pageSize) % size) / (p * pageSize);
        if (waste < bestWaste) [best, bestWaste] = [p, waste];
        if (waste <= 1 / 16) break;
      }
      b = Math.floor((best * pageSize) / size);
    }
    blocks[c] = b;
    pages[c] = Math.ceil((b * size) / pageSize);
  }
  return { perOctave, size: Float64Array.from(sizes), blocks, pages };
}

/**
 * The class of `size` (an integer from 1 to 8 MiB, checked by the caller): index into the table. Power-of-two
 * classes: the bit length of size − 1, less 4. Four per octave: the octave's base class plus the quarter-octave
 * step that covers size.
 */
export function classIndex(perOctave: 1 | 4, size: number): number {
  if (size <= MIN) return 0;
  const e = 31 - Math.clz32(size - 1);
  if (perOctave === 1) return e - 3;
  return (e - 4) * 4 + ((size - 1 - 2 ** e) >> (e - 2)) + 1;
}

export const KMALLOC_MIN = MIN;
export const KMALLOC_MAX = MAX;
