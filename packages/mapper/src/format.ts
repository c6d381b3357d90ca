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

/**
 * A `/proc/<pid>/maps`-style listing: one `start-end perms offset name` line per entry, addresses in hex padded to
 * the width of `rangeEnd - 1` (at least 8 digits), offsets to 8.
 */
export function formatMaps(entries: readonly MapEntry[], rangeEnd: number): string {
  const width = Math.max(8, (rangeEnd - 1).toString(16).length);
  return entries
    .map((e) => `${pad(e.start, width)}-${pad(e.end, width)} ${formatPerms(e.prot, e.flags)} ${pad(e.offset, 8)} ${e.backing.name}\n`)
    .join('');
}
