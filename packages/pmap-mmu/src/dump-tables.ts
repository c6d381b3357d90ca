import { LeafBit } from './internal/format.js';
import { VmError, hex } from '@vmlayers/phys';
import { MmuPmap } from './mmu-pmap.js';

export { LeafBit };

/** One present leaf of an address space's page tables (`MmuPmap.leaves()`). */
export interface PteLeaf {
  /** First virtual address the leaf maps. */
  va: number;
  /** Physical address it maps to. */
  pa: number;
  /** Bytes it maps: 4096, or a superpage's size. */
  size: number;
  /** Physical address of the PTE (in its table frame). */
  pte: number;
  /** Its flag bits as {@link LeafBit}. */
  bits: number;
}

function padHex(v: number, width: number): string {
  return `0x${v.toString(16).padStart(width, '0')}`;
}

/** `U W X A D`-style flag letters of a leaf, `-` for a clear bit (`R` read, `G` global among them). */
export function leafFlags(bits: number): string {
  const f = (bit: number, c: string) => (bits & bit ? c : '-');
  return [f(LeafBit.USER, 'U'), f(LeafBit.READ, 'R'), f(LeafBit.WRITE, 'W'), f(LeafBit.EXEC, 'X'), f(LeafBit.GLOBAL, 'G'), f(LeafBit.ACCESSED, 'A'), f(LeafBit.DIRTY, 'D')].join(' ');
}

/**
 * The page tables of `pmap` as v86's table dump prints them, one present leaf a line in address order:
 * `va → pa | U R W X G A D (at pte pa)` with a clear bit as `-`, and the size of a superpage (or an ARMv7-A large
 * page, section or supersection written by hand) after its flags.
 * A user space shows its own half; `{ kernel: true }` adds the shared kernel half. Reads RAM only: no TLB, no
 * accessed bit. Anything but an `MmuPmap` → `VmError('EINVAL')`.
 *
 * @example
 * ```ts
 * console.log(dumpTables(pmap));
 * // 0x0000010000 → 0x0080311000 | U R W - - A D (at pte 0x008030c080)
 * ```
 */
export function dumpTables(pmap: MmuPmap, options: { kernel?: boolean } = {}): string {
  if (!(pmap instanceof MmuPmap)) throw new VmError('EINVAL', `pmap must be an MmuPmap (sv39, ia32, aarch64 or armv7a), got ${hex(pmap)}`);
  const leaves = pmap.leaves(options);
  const width = Math.max(8, ...leaves.map((l) => (l.va + l.size - 1).toString(16).length));
  const pw = Math.max(8, ...leaves.map((l) => Math.max(l.pa, l.pte).toString(16).length));
  return leaves
    .map((l) => {
      const size = l.size === 4096 ? '' : ` ${l.size >= 2 ** 30 ? `${l.size / 2 ** 30} GiB` : l.size >= 2 ** 20 ? `${l.size / 2 ** 20} MiB` : `${l.size / 1024} KiB`}`;
      return `${padHex(l.va, width)} → ${padHex(l.pa, pw)} | ${leafFlags(l.bits)}${size} (at pte ${padHex(l.pte, pw)})\n`;
    })
    .join('');
}
