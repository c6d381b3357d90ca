import { addr, bytes } from '@vmlayers/demo/lib';
import type { FrameMapModel } from '@vmlayers/demo/lib';

/** Pixels of a cell side. */
const CELL = 9;
/** Width of the address column. */
const LEFT = 86;
const LABEL_ROW = 14;

/** Where a drawn row is, and which cells (indexes in address order) it holds. */
interface DrawnRow {
  y: number;
  height: number;
  first: number;
  count: number;
  band: boolean;
}

/** What the map draws on top of the cells. */
export interface Overlay {
  /** Cells changed by the step. */
  changed: ReadonlySet<number>;
  /** Copy-on-write copies of the step: from the cell copied to the cell of the copy. */
  arrows: readonly { from: number; to: number }[];
  /** The cell of the frame being inspected, or -1. */
  selected: number;
}

/**
 * The frame map on a canvas: one cell per frame (or per `framesPerCell` frames on a large board), coloured by
 * owner as the demo's report colours it; rows of one kind collapsed into a labelled band, holes as a line. Cells
 * the step changed are outlined, copy-on-write copies drawn as an arrow from the frame copied to the copy.
 */
export class FrameMapView {
  private rows: DrawnRow[] = [];
  private model: FrameMapModel | null = null;

  constructor(private readonly canvas: HTMLCanvasElement) {}

  /** Draws `model` with the step's overlay, sizing the canvas to it. */
  draw(model: FrameMapModel, overlay: Overlay): void {
    this.model = model;
    const ctx = this.canvas.getContext('2d');
    this.layout(model);
    const width = LEFT + model.columns * CELL + 4;
    const last = this.rows[this.rows.length - 1];
    const height = (last ? last.y + last.height : 0) + 4;
    const dpr = globalThis.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    if (ctx === null) return; // no 2D context (a headless test environment without canvas): nothing to paint
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.font = '9px ui-monospace, Menlo, Consolas, monospace';
    ctx.textBaseline = 'middle';
    const colour = new Map(model.kinds.map((k) => [k.key, k.color]));
    let r = 0;
    for (const row of model.rows) {
      const d = this.rows[r++];
      if (row.type === 'cells') {
        ctx.fillStyle = '#555';
        ctx.textAlign = 'right';
        ctx.fillText(addr(row.addr), LEFT - 4, d.y + CELL / 2);
        row.cells.forEach((c, i) => {
          ctx.fillStyle = colour.get(c) ?? '#5b7db1';
          ctx.fillRect(LEFT + i * CELL, d.y, CELL - 1, CELL - 1);
        });
      } else {
        ctx.fillStyle = row.type === 'band' ? (colour.get(row.kind) ?? '#ccc') : '#fff';
        if (row.type === 'band') ctx.fillRect(LEFT, d.y + 3, model.columns * CELL - 1, LABEL_ROW - 6);
        ctx.fillStyle = '#333';
        ctx.textAlign = 'left';
        const label = row.type === 'band' ? `⋮ ${row.rows} rows, ${row.frames} frames from ${addr(row.addr)}` : `⋯ no memory: ${bytes(row.bytes)} hole from ${addr(row.addr)}`;
        ctx.fillText(label, LEFT + 4, d.y + LABEL_ROW / 2);
      }
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#111';
    for (const c of overlay.changed) {
      const p = this.cellBox(c);
      if (p !== null) ctx.strokeRect(p.x - 0.5, p.y - 0.5, CELL, CELL);
    }
    if (overlay.selected >= 0) {
      const p = this.cellBox(overlay.selected);
      if (p !== null) {
        ctx.lineWidth = 2;
        ctx.strokeStyle = '#e11d48';
        ctx.strokeRect(p.x - 2, p.y - 2, CELL + 3, CELL + 3);
      }
    }
    for (const a of overlay.arrows) this.arrow(ctx, a.from, a.to);
  }

  /** The cell index under a point of the canvas (CSS pixels), or -1. */
  cellAt(x: number, y: number): number {
    if (this.model === null || x < LEFT) return -1;
    const col = Math.floor((x - LEFT) / CELL);
    if (col >= this.model.columns) return -1;
    for (const d of this.rows) {
      if (y < d.y || y >= d.y + d.height) continue;
      if (d.count === 0) return -1;
      // A band is one drawn line for many rows: a click names a cell of its first row.
      return col < d.count ? d.first + col : -1;
    }
    return -1;
  }

  /** Centre of cell `i` in CSS pixels, or null when it is not drawn as a cell. */
  cellCentre(i: number): { x: number; y: number } | null {
    const b = this.cellBox(i);
    return b === null ? null : { x: b.x + CELL / 2, y: b.y + CELL / 2 };
  }

  private cellBox(i: number): { x: number; y: number } | null {
    if (this.model === null) return null;
    for (const d of this.rows) {
      if (i < d.first || i >= d.first + d.count) continue;
      if (d.band) {
        const col = (i - d.first) % this.model.columns;
        return { x: LEFT + col * CELL, y: d.y + 3 };
      }
      return { x: LEFT + (i - d.first) * CELL, y: d.y };
    }
    return null;
  }

  private layout(model: FrameMapModel): void {
    this.rows = [];
    let y = 2;
    let cell = 0;
    for (const row of model.rows) {
      if (row.type === 'cells') {
        this.rows.push({ y, height: CELL, first: cell, count: row.cells.length, band: false });
        cell += row.cells.length;
        y += CELL;
      } else if (row.type === 'band') {
        this.rows.push({ y, height: LABEL_ROW, first: cell, count: row.rows * model.columns, band: true });
        cell += row.rows * model.columns;
        y += LABEL_ROW;
      } else {
        this.rows.push({ y, height: LABEL_ROW, first: cell, count: 0, band: false });
        y += LABEL_ROW;
      }
    }
  }

  private arrow(ctx: CanvasRenderingContext2D, from: number, to: number): void {
    const a = this.cellCentre(from);
    const b = this.cellCentre(to);
    if (a === null || b === null) return;
    ctx.strokeStyle = '#e11d48';
    ctx.fillStyle = '#e11d48';
    ctx.lineWidth = 2;
    // A bowed line, so an arrow between neighbouring cells stays visible.
    const mx = (a.x + b.x) / 2 + (b.y - a.y) * 0.3 + 12;
    const my = (a.y + b.y) / 2 - (b.x - a.x) * 0.3 - 12;
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.quadraticCurveTo(mx, my, b.x, b.y);
    ctx.stroke();
    const ang = Math.atan2(b.y - my, b.x - mx);
    ctx.beginPath();
    ctx.moveTo(b.x, b.y);
    ctx.lineTo(b.x - 8 * Math.cos(ang - 0.4), b.y - 8 * Math.sin(ang - 0.4));
    ctx.lineTo(b.x - 8 * Math.cos(ang + 0.4), b.y - 8 * Math.sin(ang + 0.4));
    ctx.closePath();
    ctx.fill();
  }
}
