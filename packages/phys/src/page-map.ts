/**
 * One run of the page map (`PageAllocator.pageMap()`; the original's `meminfo` page entry `{count, marker, addr}`):
 * `count` address-contiguous frames from `addr` that show the same marker. Runs come in address order and break at
 * holes between banks, so the next run may start past this one's end.
 */
export interface PageMapRun {
  /** Frames in the run, ≥ 1. */
  count: number;
  /** The one-character marker every frame of the run shows (see {@link PAGE_MARKERS}). */
  marker: string;
  /** Physical address of the run's first frame, in bytes (page-aligned). */
  addr: number;
}

/** Markers of the original's `pmap_marker`: `.` free, `B` boot, `A` application, kernel frames by usage. */
export const PAGE_MARKERS = {
  /** A free frame (on a free list or the per-CPU list, or in an untouched section). */
  free: '.',
  /** A frame owned by `PageOwner.BOOT`: a `reserved` region's, taken before the VM started. */
  boot: 'B',
  /** A frame owned by `PageOwner.APP`, whatever its usage. */
  app: 'A',
  /**
   * Kernel frames by `PageUsage`, one character per value (index = usage): K generic (`NONE`), Y syspage, C cpu,
   * P page table, M pmap, S stack, H heap. Values past the string show `K`, as in the original's `KYCPMSHKKKKKKKKK`.
   */
  kernel: 'KYCPMSH',
} as const;

/**
 * The page map as the original's console dump (`_page_showPages`): runs as `[NX]` (a single frame as `X`), holes
 * between banks as `[Nx]` (N frames of `pageSize` bytes, a single one as `x`), lines of at most `width` columns
 * (default 80) prefixed `vm: `, joined with `\n`, no final newline. A token is never split: one longer than a line
 * gets a line of its own. `runs` must be in address order (as `PageAllocator.pageMap()` returns them); no runs →
 * the empty string. Nothing is validated: a pure formatter. `hole` writes a hole of N frames otherwise (the demo
 * prints its size: `(383 MiB hole)`).
 */
export function formatPageMap(runs: readonly PageMapRun[], pageSize: number, width = 80, hole?: (frames: number) => string): string {
  const prefix = 'vm: ';
  const tokens: string[] = [];
  let expected = runs.length > 0 ? runs[0].addr : 0;
  for (const r of runs) {
    if (r.addr > expected) {
      const frames = (r.addr - expected) / pageSize;
      tokens.push(hole === undefined ? token(frames, 'x') : hole(frames));
    }
    tokens.push(token(r.count, r.marker));
    expected = r.addr + r.count * pageSize;
  }
  const lines: string[] = [];
  let line = prefix;
  for (const t of tokens) {
    if (line.length + t.length > width && line.length > prefix.length) {
      lines.push(line);
      line = prefix;
    }
    line += t;
  }
  if (line.length > prefix.length) lines.push(line);
  return lines.join('\n');
}

function token(count: number, marker: string): string {
  return count === 1 ? marker : `[${count}${marker}]`;
}
