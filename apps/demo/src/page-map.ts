import { PAGE_MARKERS, formatPageMap } from '@vmlayers/phys';
import type { PageMapRun } from '@vmlayers/phys';
import { bytes } from './format.js';

/** What each page-map marker means: every marker phys's `PAGE_MARKERS` names, and the hole. */
export const MARKER_MEANINGS: Readonly<Record<string, string>> = {
  [PAGE_MARKERS.free]: 'free',
  [PAGE_MARKERS.boot]: 'reserved by the board before boot (firmware, kernel image, flash)',
  [PAGE_MARKERS.app]: 'user memory (pages of processes and of memory objects)',
  K: 'kernel, other (here the zero page, which reads of never-written memory map)',
  Y: 'kernel: the syspage',
  C: 'kernel: per-CPU data',
  P: 'kernel: page tables',
  M: 'kernel: pmap structures',
  S: 'kernel: stacks',
  H: 'kernel: heap (kmalloc zones, map entries, objects)',
  x: 'no memory at those addresses (a hole between banks)',
};

/**
 * The page map as phys's `formatPageMap` prints it (the original's `_page_showPages`), with each hole between banks
 * written as its size, `(383 MiB hole)`, instead of a count of frames that do not exist. Lines of at most `width`
 * columns prefixed `vm: `.
 */
export function pageMapText(runs: readonly PageMapRun[], pageSize: number, width = 80): string {
  return formatPageMap(runs, pageSize, width, (n) => `(${bytes(n * pageSize)} hole)`);
}

/** Frames of each marker in a page map, holes (`x`) counted in frames too. */
export function markerCounts(runs: readonly PageMapRun[], pageSize: number): Record<string, number> {
  const out: Record<string, number> = {};
  let expected = runs.length > 0 ? runs[0].addr : 0;
  for (const r of runs) {
    if (r.addr > expected) out.x = (out.x ?? 0) + (r.addr - expected) / pageSize;
    out[r.marker] = (out[r.marker] ?? 0) + r.count;
    expected = r.addr + r.count * pageSize;
  }
  return out;
}

/** Legend lines for `markers`, one a line: the marker (a hole as the page map shows it) and what it means. */
export function legendLines(markers: readonly string[]): string[] {
  return markers.map((m) => `  ${(m === 'x' ? '(… hole)' : m).padEnd(9)}${MARKER_MEANINGS[m] ?? 'unknown'}`);
}
