import type { PageMapRun } from '@vmlayers/phys';
import { addr, bytes } from './format.js';
import type { FrameOwner } from './recorder.js';

/** A colour class of the frame map. */
export interface FrameKind {
  key: string;
  label: string;
  color: string;
}

const FIXED: Record<string, FrameKind> = {
  free: { key: 'free', label: 'free', color: '#e8ecf1' },
  boot: { key: 'boot', label: 'boot (reserved by the board)', color: '#8a8f98' },
  ptable: { key: 'ptable', label: 'kernel: page tables', color: '#d9822b' },
  heap: { key: 'heap', label: 'kernel: heap (kmalloc zones, map entries)', color: '#b83227' },
  kernel: { key: 'kernel', label: 'kernel: other', color: '#9b5d97' },
  shared: { key: 'shared', label: 'memory objects (shared pages, page cache)', color: '#a855f7' },
  app: { key: 'app', label: 'user memory', color: '#5b7db1' },
};
const PID_COLORS = ['#3b82f6', '#22a06b', '#e2b203', '#e5489a', '#0ea5c6', '#7fb800', '#f97316', '#8b5cf6'];

/** One drawn row: a run of cells, or a collapsed band of identical rows. */
export type FrameRow =
  | { type: 'cells'; addr: number; cells: string[] }
  | { type: 'band'; addr: number; rows: number; kind: string; frames: number }
  | { type: 'gap'; addr: number; bytes: number };

/** The frame map as the report draws it: rows of cells (each `framesPerCell` frames), and the legend. */
export interface FrameMapModel {
  pageSize: number;
  columns: number;
  framesPerCell: number;
  rows: FrameRow[];
  kinds: FrameKind[];
  /** Frames of each kind. */
  counts: Record<string, number>;
}

/**
 * Which owner each frame has, coloured: free, boot, the kernel (page tables, heap, other), and user memory by the
 * process whose fault or mapping took it (from the vm's `alloc` events), pages of shared objects apart. Rows of
 * `columns` cells; three or more identical rows of one kind collapse into a band, holes between banks into a gap.
 * `names`: what a trace calls each pid, shown beside it in the legend.
 */
export function frameMapModel(
  runs: readonly PageMapRun[],
  owners: ReadonlyMap<number, FrameOwner>,
  pageSize: number,
  columns = 64,
  maxCells = 128 * 128,
  names: ReadonlyMap<number, string> = new Map(),
): FrameMapModel {
  const perFrame = new Map<number, FrameOwner>();
  for (const [pa, o] of owners) for (let k = 0; k * pageSize < Math.max(o.size, pageSize); k++) perFrame.set(pa + k * pageSize, o);
  const kinds = new Map<string, FrameKind>();
  const pids: number[] = [];
  const kindOf = (marker: string, pa: number): string => {
    if (marker === '.') return 'free';
    if (marker === 'B') return 'boot';
    if (marker === 'P') return 'ptable';
    if (marker === 'H') return 'heap';
    if (marker !== 'A') return 'kernel';
    const o = perFrame.get(pa);
    if (o === undefined) return 'app';
    if (o.object !== '[anon]' || o.pid === undefined) return 'shared';
    if (!pids.includes(o.pid)) pids.push(o.pid);
    return `pid:${o.pid}`;
  };
  let total = 0;
  for (const r of runs) total += r.count;
  let framesPerCell = 1;
  while (total / framesPerCell > maxCells) framesPerCell *= 2;

  const counts: Record<string, number> = {};
  const rows: FrameRow[] = [];
  let row: { addr: number; cells: string[] } | null = null;
  let cell: Map<string, number> = new Map();
  let cellFrames = 0;
  let cellAddr = 0;
  let expected = runs.length > 0 ? runs[0].addr : 0;
  const flushCell = () => {
    if (cellFrames === 0) return;
    // A cell of several frames shows what is most there, free only when it is all free.
    let best = 'free';
    let bestN = 0;
    for (const [k, n] of cell) if (k !== 'free' && n > bestN) (best = k), (bestN = n);
    if (row === null) row = { addr: cellAddr, cells: [] };
    row.cells.push(best);
    if (row.cells.length === columns) flushRow();
    cell = new Map();
    cellFrames = 0;
  };
  const flushRow = () => {
    if (row !== null && row.cells.length > 0) rows.push({ type: 'cells', ...row });
    row = null;
  };
  for (const r of runs) {
    if (r.addr > expected) {
      flushCell();
      flushRow();
      rows.push({ type: 'gap', addr: expected, bytes: r.addr - expected });
    }
    for (let i = 0; i < r.count; i++) {
      const pa = r.addr + i * pageSize;
      const k = kindOf(r.marker, pa);
      counts[k] = (counts[k] ?? 0) + 1;
      if (cellFrames === 0) cellAddr = pa;
      cell.set(k, (cell.get(k) ?? 0) + 1);
      if (++cellFrames === framesPerCell) flushCell();
    }
    expected = r.addr + r.count * pageSize;
  }
  flushCell();
  flushRow();

  for (const k of ['free', 'boot', 'ptable', 'heap', 'kernel']) if (counts[k]) kinds.set(k, FIXED[k]);
  pids.sort((x, y) => x - y).forEach((pid, i) => kinds.set(`pid:${pid}`, { key: `pid:${pid}`, label: `pid ${pid}${names.has(pid) ? ` (${names.get(pid)})` : ''}: private pages`, color: PID_COLORS[i % PID_COLORS.length] }));
  for (const k of ['shared', 'app']) if (counts[k]) kinds.set(k, FIXED[k]);
  return { pageSize, columns, framesPerCell, rows: collapse(rows, columns, framesPerCell), kinds: [...kinds.values()], counts };
}

function collapse(rows: FrameRow[], columns: number, framesPerCell: number): FrameRow[] {
  const out: FrameRow[] = [];
  const uniform = (r: FrameRow) => (r.type === 'cells' && r.cells.length === columns && r.cells.every((c) => c === r.cells[0]) ? r.cells[0] : null);
  for (let i = 0; i < rows.length; ) {
    const k = uniform(rows[i]);
    let j = i + 1;
    if (k !== null) while (j < rows.length && uniform(rows[j]) === k) j++;
    if (k !== null && j - i >= 3) {
      out.push(rows[i]);
      out.push({ type: 'band', addr: rows[i + 1].addr, rows: j - i - 1, kind: k, frames: (j - i - 1) * columns * framesPerCell });
    } else {
      for (let m = i; m < j; m++) out.push(rows[m]);
    }
    i = j;
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The frame map as SVG: an address label per row, cells merged into one rectangle per run of a colour, bands and
 * gaps as labelled lines, and the legend with frame counts. `standalone` adds the XML namespace an image file needs
 * (inline in HTML it is not needed, and the report holds no URL).
 */
export function frameMapSvg(model: FrameMapModel, title: string, standalone = false): string {
  const cellW = 11;
  const rowH = 11;
  const left = 96;
  const width = left + model.columns * cellW + 8;
  const byKey = new Map(model.kinds.map((k) => [k.key, k]));
  const color = (k: string) => byKey.get(k)?.color ?? FIXED.app.color;
  const parts: string[] = [];
  let y = 28;
  parts.push(`<text x="0" y="14" font-size="13" font-weight="bold">${esc(title)}</text>`);
  for (const r of model.rows) {
    if (r.type === 'cells') {
      parts.push(`<text x="${left - 6}" y="${y + rowH - 1}" font-size="9" text-anchor="end">${addr(r.addr)}</text>`);
      for (let i = 0; i < r.cells.length; ) {
        let j = i + 1;
        while (j < r.cells.length && r.cells[j] === r.cells[i]) j++;
        parts.push(`<rect x="${left + i * cellW}" y="${y}" width="${(j - i) * cellW - 1}" height="${rowH - 1}" fill="${color(r.cells[i])}"><title>${esc(byKey.get(r.cells[i])?.label ?? r.cells[i])}</title></rect>`);
        i = j;
      }
      y += rowH;
    } else {
      const text =
        r.type === 'band'
          ? `⋮ ${r.rows} more row${r.rows === 1 ? '' : 's'} of ${byKey.get(r.kind)?.label ?? r.kind} (${r.frames} frames)`
          : `⋯ no memory: ${bytes(r.bytes)} hole from ${addr(r.addr)}`;
      parts.push(`<text x="${left}" y="${y + 10}" font-size="9" fill="#555">${esc(text)}</text>`);
      y += 14;
    }
  }
  y += 10;
  const per = model.framesPerCell === 1 ? `one cell = one ${bytes(model.pageSize)} frame` : `one cell = ${model.framesPerCell} frames of ${bytes(model.pageSize)}`;
  parts.push(`<text x="0" y="${y}" font-size="10" fill="#555">${esc(per)}</text>`);
  y += 8;
  for (const k of model.kinds) {
    parts.push(`<rect x="0" y="${y}" width="10" height="10" fill="${k.color}"/>`);
    parts.push(`<text x="16" y="${y + 9}" font-size="10">${esc(k.label)}: ${model.counts[k.key] ?? 0} frames</text>`);
    y += 14;
  }
  const ns = standalone ? ' xmlns="http://www.w3.org/2000/svg"' : '';
  return `<svg${ns} width="${width}" height="${y + 4}" viewBox="0 0 ${width} ${y + 4}" font-family="ui-monospace, Menlo, Consolas, monospace" role="img" aria-label="${esc(title)}">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join('\n')}\n</svg>\n`;
}
