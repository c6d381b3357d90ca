import { CHUNK_SIZE } from '@vmlayers/phys';
import type { PhysicalMemory } from '@vmlayers/phys';

/*
 * Page-table frames read as `Uint32Array` views of `PhysicalMemory`'s own bytes, so a TLB miss reads a PTE with one
 * typed-array load and sets A/D with one store, instead of two `read32` calls through the bank and chunk lookup.
 *
 * `PhysicalMemory` has no public accessor for this yet. The one wanted (see the README, "Miss path") is
 *
 *     frameWords(pa: number): Uint32Array | null
 *
 * — the 1024 words of the 4 KiB chunk at `pa` (page-aligned, in RAM) as a view of the live storage, or `null` when
 * the chunk holds no host memory (it reads as zeros; nothing is allocated to answer). The view stays the frame's
 * storage until the chunk's host memory is dropped (`zero` of the whole chunk, which every frame free does); after
 * that the frame is backed by a new buffer on its next non-zero write and the old view is stale.
 *
 * Until phys has it, `frameWords` below reads the existing fields of `PhysicalMemory` (its chunk directory and
 * word views), checks their shape, and checks the first view it hands out for each `PhysicalMemory` against
 * `read()`. Anything unexpected (phys changed its storage) turns it off for that memory: `frameWords` then
 * answers `null` and the walks fall back to `read32`/`write32` — slower, never wrong.
 */

interface Bank {
  readonly base: number;
  readonly end: number;
  readonly chunkBase: number;
  readonly dir: (Int32Array | undefined)[] | null;
  readonly sparse: Map<number, Int32Array> | null;
}

interface Storage {
  readonly banks: Bank[];
  readonly words: (Uint32Array | undefined)[];
}

const PAGE = 4096;
const DIR_SHIFT = 8;
const DIR_SPAN = 1 << DIR_SHIFT;

// Per memory: its storage when usable, null when not, absent before the first view was checked.
const storages = new WeakMap<PhysicalMemory, Storage | null>();

function storageOf(mem: PhysicalMemory): Storage | null {
  const known = storages.get(mem);
  if (known !== undefined) return known;
  const m = mem as unknown as Partial<Storage>;
  const ok =
    CHUNK_SIZE === PAGE &&
    Array.isArray(m.banks) &&
    Array.isArray(m.words) &&
    m.banks.every(
      (b) =>
        typeof b === 'object' &&
        typeof b.base === 'number' &&
        typeof b.end === 'number' &&
        typeof b.chunkBase === 'number' &&
        (Array.isArray(b.dir) || b.sparse instanceof Map),
    );
  if (!ok) {
    storages.set(mem, null);
    return null;
  }
  return m as Storage;
}

function lookup(s: Storage, pa: number): Uint32Array | null {
  for (const b of s.banks) {
    if (pa < b.base || pa + PAGE > b.end) continue;
    const k = Math.floor((pa - b.chunkBase) / PAGE);
    const t = b.dir !== null ? b.dir[k >> DIR_SHIFT] : b.sparse!.get(Math.floor(k / DIR_SPAN));
    const slot = t === undefined ? 0 : t[k & (DIR_SPAN - 1)];
    const w = slot === 0 ? undefined : s.words[slot];
    return w instanceof Uint32Array && w.length === PAGE / 4 ? w : null;
  }
  return null;
}

/**
 * The words of the page-aligned RAM frame at `pa` as a live view, or `null` when the frame holds no host memory
 * (reads as zeros) or views are not available. Never allocates host memory for the frame.
 */
export function frameWords(mem: PhysicalMemory, pa: number): Uint32Array | null {
  const s = storageOf(mem);
  if (s === null) return null;
  const w = lookup(s, pa);
  if (w === null || storages.has(mem)) return w;
  // First view of this memory: it must hold exactly what read() returns, and a word written through it must be
  // what read32 sees.
  const bytes = mem.read(pa, PAGE);
  const copy = new Uint32Array(bytes.buffer, bytes.byteOffset, PAGE / 4);
  let same = true;
  for (let i = 0; i < copy.length; i++) if (copy[i] !== w[i]) same = false;
  if (same) {
    const old = w[0];
    w[0] = old ^ 0x8000_0000;
    same = mem.read32(pa) === (old ^ 0x8000_0000) >>> 0;
    w[0] = old;
  }
  storages.set(mem, same ? s : null);
  return same ? w : null;
}

/** True when `frameWords` can hand out views of `mem` (for reports and tests). */
export function frameViewsAvailable(mem: PhysicalMemory): boolean {
  return storageOf(mem) !== null;
}
