import { formatMapLine } from '@vmlayers/mapper';
import type { MapInfo } from '../meminfo.js';
import type { Vm } from '../vm.js';

/** One mapping of `smaps(vm, pid)`: its maps line and what of it is in RAM, in bytes. */
export interface Smaps extends MapInfo {
  /** `end - start`. */
  size: number;
  /** Resident: pages of the mapping this process's translation reaches (the shared zero page excluded, as Linux). */
  rss: number;
  /**
   * Proportional set size: each resident page divided by the number of processes mapping its frame, so the PSS of
   * every process adds up to the RAM they use. May be fractional.
   */
  pss: number;
  /** Resident pages whose frame another process maps too (copy-on-write pages not yet copied, shared memory). */
  shared: number;
  /** Resident pages only this process maps. */
  private: number;
  /** Pages that read as zeros through the shared zero page (no RAM of their own). */
  zero: number;
}

/**
 * Per-mapping residency of process `pid`, as Linux's `/proc/<pid>/smaps`: for each mapping its size, `rss`, `pss`,
 * `shared` and `private` bytes, so copy-on-write sharing is visible (after `fork` a touched private page is shared
 * by both processes until one writes it). A frame's map count is the number of live processes whose translation
 * reaches it, found by resolving every page of every process mapping (`Pmap.resolve`: no accessed bit set, no TLB
 * consulted) — an inspection cost proportional to the mapped address space, not for hot paths. Without an MMU a
 * mapping's memory is placed whole when it is mapped, so every page of it is resident. Unknown pid → `ENOENT`.
 */
export function smaps(vm: Vm, pid: number): Smaps[] {
  const ps = vm.arch.pageSize;
  const zero = vm.zeroPage;
  const target = vm.maps(pid);
  const count = new Map<number, number>();
  // The target's frames, page by page in its maps' order, kept from the counting pass: each page resolved once.
  const mine: number[] = [];
  for (const p of vm.processes()) {
    const pmap = vm.pmap(p.pid);
    for (const m of vm.maps(p.pid)) {
      for (let va = m.start; va < m.end; va += ps) {
        const pa = pmap.resolve(va);
        if (p.pid === pid) mine.push(pa);
        if (pa >= 0 && pa !== zero) count.set(pa, (count.get(pa) ?? 0) + 1);
      }
    }
  }
  let i = 0;
  return target.map((m) => {
    const s: Smaps = { ...m, size: m.end - m.start, rss: 0, pss: 0, shared: 0, private: 0, zero: 0 };
    for (let va = m.start; va < m.end; va += ps) {
      const pa = mine[i++];
      if (pa < 0) continue;
      if (pa === zero) {
        s.zero += ps;
        continue;
      }
      const n = count.get(pa) ?? 1;
      s.rss += ps;
      s.pss += ps / n;
      if (n > 1) s.shared += ps;
      else s.private += ps;
    }
    return s;
  });
}

function field(label: string, bytes: number): string {
  return `${`${label}:`.padEnd(16, ' ')}${`${Math.floor(bytes / 1024)}`.padStart(8, ' ')} kB\n`;
}

/**
 * {@link smaps} as the text of Linux's `/proc/<pid>/smaps`: each mapping's maps line, then `Size`, `Rss`, `Pss`,
 * `Shared`, `Private` and `Zero` in kB (rounded down, as Linux prints them).
 */
export function formatSmaps(vm: Vm, pid: number): string {
  const end = vm.arch.userRange[1];
  return smaps(vm, pid)
    .map(
      (s) =>
        `${formatMapLine({ ...s, name: s.object, inode: s.objectId }, end)}\n` +
        field('Size', s.size) +
        field('Rss', s.rss) +
        field('Pss', s.pss) +
        field('Shared', s.shared) +
        field('Private', s.private) +
        field('Zero', s.zero),
    )
    .join('');
}
