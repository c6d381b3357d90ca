import type { BoardMemoryMap } from '@vmlayers/phys';
import type { MemInfo } from '@vmlayers/memobj';

/** Human figures for the narration: bytes in KiB/MiB/GiB, addresses in hex. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  if (v >= 1024 && u < units.length - 1) {
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return `${v.toFixed(1)} ${units[u]}`;
  }
  return `${v} ${units[u]}`;
}

export function addr(n: number, width = 8): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** Parses a size such as `64M`, `512k`, `4G`, `65536`. Returns NaN when it is not one. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!m) return NaN;
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * scale;
}

/**
 * `meminfo` in one line, the narration's summary of the figures `formatMeminfo` prints in full: RAM frames (free of
 * all, allocated by the kernel and processes) apart from the frames the board reserved before boot (flash, firmware,
 * the kernel image: the regions named), then map entries and the kernel heap.
 */
export function meminfoLine(i: MemInfo, pageSize: number, board: BoardMemoryMap): string {
  const p = i.page;
  const reserved = board.regions.filter((r) => r.kind === 'reserved').map((r) => `${r.name} ${bytes(r.size)}`);
  return (
    `meminfo: ${p.free / pageSize} of ${(p.total - p.boot) / pageSize} RAM frames free (${bytes(pageSize)} each), ` +
    `${(p.alloc - p.boot) / pageSize} allocated` +
    (p.boot > 0 ? `; ${p.boot / pageSize} more reserved by the board (${reserved.join(', ') || 'boot'})` : '') +
    `; map entries ${i.map.entries} used, ${i.map.free} free; kmalloc ${bytes(i.kmalloc.used)} used, ${bytes(i.kmalloc.free)} free` +
    (i.swap ? `; swap ${(i.swap.total - i.swap.free) / pageSize} of ${i.swap.total / pageSize} slots used` : '') +
    (i.reclaim ? `, ${i.reclaim.resident} anonymous page${i.reclaim.resident === 1 ? '' : 's'} resident${i.reclaim.limit === null ? '' : ` of at most ${i.reclaim.limit}`} (${i.reclaim.policy})` : '')
  );
}

/** Bytes as text when they are printable (what a process read), else hex. */
export function shown(b: Uint8Array): string {
  const end = b.indexOf(0);
  const text = b.subarray(0, end < 0 ? b.length : end);
  if (text.length > 0 && text.every((c) => c >= 0x20 && c < 0x7f)) {
    const s = new TextDecoder().decode(text.subarray(0, 48));
    return JSON.stringify(s) + (text.length > 48 ? ` … (${b.length} bytes)` : '');
  }
  return [...b.subarray(0, 16)].map((c) => c.toString(16).padStart(2, '0')).join(' ') + (b.length > 16 ? ' …' : '');
}
