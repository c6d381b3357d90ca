import { MapFlags, Prot } from '@vmlayers/phys';
import type { MapEntry } from './map-entry.js';

function pad(v: number, width: number): string {
  return v.toString(16).padStart(width, '0');
}

/** `rwxp`-style permissions of an entry: read, write, execute, then `s` shared or `p` private. */
export function formatPerms(prot: number, flags: number): string {
  return (
    (prot & Prot.READ ? 'r' : '-') +
    (prot & Prot.WRITE ? 'w' : '-') +
    (prot & Prot.EXEC ? 'x' : '-') +
    (flags & MapFlags.SHARED ? 's' : 'p')
  );
}

/** What one line of a maps listing shows (a {@link MapEntry}, or a memobj `MapInfo`). */
export interface MapLine {
  /** First address. */
  start: number;
  /** End address, exclusive. */
  end: number;
  /** `Prot` bits. */
  prot: number;
  /** `MapFlags` bits (only `SHARED` is shown). */
  flags: number;
  /** Offset of `start` in the mapped object, in bytes. */
  offset: number;
  /** The backing's name, shown as the pathname column. */
  name: string;
  /** The object's number, shown in the inode column (0 for anonymous memory, as Linux shows). */
  inode?: number;
}

/**
 * One line exactly as Linux's `/proc/<pid>/maps` prints it (`show_map_vma`): `start-end perms offset dev inode`,
 * addresses and offset in at least 8 hex digits, device `00:00`, then the name from column 74 on a 64-bit address
 * space (`rangeEnd` above 2^32) or column 50 on a 32-bit one (one space after the inode when the head is longer).
 */
export function formatMapLine(m: MapLine, rangeEnd: number): string {
  const head = `${pad(m.start, 8)}-${pad(m.end, 8)} ${formatPerms(m.prot, m.flags)} ${pad(m.offset, 8)} 00:00 ${m.inode ?? 0} `;
  if (m.name === '') return head.trimEnd();
  // seq_setwidth(25 + 6 * sizeof(void *) - 1), then seq_pad: pad to the width, then one more space.
  const width = rangeEnd > 2 ** 32 ? 25 + 6 * 8 - 1 : 25 + 6 * 4 - 1;
  return `${head.padEnd(width, ' ')} ${m.name}`;
}

/** A `/proc/<pid>/maps` listing of `entries` ({@link formatMapLine} per entry, each ending in a newline). */
export function formatMaps(entries: readonly MapEntry[], rangeEnd: number): string {
  return entries
    .map((e) => `${formatMapLine({ start: e.start, end: e.end, prot: e.prot, flags: e.flags, offset: e.offset, name: e.backing.name }, rangeEnd)}\n`)
    .join('');
}
