/** One run of the page map: `count` frames from `addr` that show the same marker. */
export interface PageMapRun {
  count: number;
  marker: string;
  addr: number;
}

/** Markers of the original's `pmap_marker`: `.` free, `B` boot, `A` application, kernel frames by usage. */
export const PAGE_MARKERS = {
  free: '.',
  boot: 'B',
  app: 'A',
  /** Kernel frames by `PageUsage`: K generic, Y syspage, C cpu, P page table, M pmap, S stack, H heap. */
  kernel: 'KYCPMSH',
} as const;

/**
 * The page map as the original's console dump (`_page_showPages`): runs as `[NX]` (a single frame as `X`), holes
 * between banks as `[Nx]`, lines of at most `width` columns prefixed `vm: `.
 */
export function formatPageMap(runs: readonly PageMapRun[], pageSize: number, width = 80): string {
  const prefix = 'vm: ';
  const tokens: string[] = [];
  let expected = runs.length > 0 ? runs[0].addr : 0;
  for (const r of runs) {
    if (r.addr > expected) tokens.push(token((r.addr - expected) / pageSize, 'x'));
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
