/** One series of a {@link lineChart}. */
export interface Series {
  label: string;
  color: string;
  values: number[];
}

/** A y axis: its title and the unit of its tick labels. */
export interface Axis {
  title: string;
  unit: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A small inline SVG line chart (no script, no URL): x is the step, step titles as tooltips on the points. One
 * series is drawn against the left axis; a second one, when given, against its own right axis, scaled from 0 to
 * its own largest value, each axis titled and ticked in the colour of its series.
 */
export function lineChart(title: string, left: Series & Axis, stepTitles: string[], right?: Series & Axis, width = 720, height = 200): string {
  const padLeft = 80;
  const padRight = right === undefined ? 12 : 80;
  const top = 24;
  const bottom = 40;
  const series = right === undefined ? [left] : [left, right];
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const x = (i: number) => padLeft + (n === 1 ? 0 : (i * (width - padLeft - padRight)) / (n - 1));
  const scale = (s: Series) => {
    const max = Math.max(1, ...s.values);
    return { max, y: (v: number) => top + (height - top - bottom) * (1 - v / max) };
  };
  const parts: string[] = [];
  parts.push(`<text x="0" y="14" font-size="12" font-weight="bold">${esc(title)}</text>`);
  const ticks = (s: Series & Axis, side: 'left' | 'right') => {
    const { max, y } = scale(s);
    const at = side === 'left' ? padLeft - 4 : width - padRight + 4;
    const anchor = side === 'left' ? 'end' : 'start';
    for (const f of [0, 0.5, 1]) {
      const v = max * f;
      if (side === 'left') parts.push(`<line x1="${padLeft}" x2="${width - padRight}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
      parts.push(`<text x="${at}" y="${y(v) + 3}" font-size="9" text-anchor="${anchor}" fill="${s.color}">${Math.round(v).toLocaleString('en-US')}${s.unit ? ` ${esc(s.unit)}` : ''}</text>`);
    }
    // The axis title, turned along the axis.
    const tx = side === 'left' ? 10 : width - 4;
    const ty = top + (height - top - bottom) / 2;
    parts.push(`<text x="${tx}" y="${ty}" font-size="10" text-anchor="middle" fill="${s.color}" transform="rotate(-90 ${tx} ${ty})" class="axis-title">${esc(s.title)}</text>`);
    parts.push(`<line x1="${side === 'left' ? padLeft : width - padRight}" x2="${side === 'left' ? padLeft : width - padRight}" y1="${top}" y2="${height - bottom}" stroke="${s.color}"/>`);
  };
  ticks(left, 'left');
  if (right !== undefined) ticks(right, 'right');
  parts.push(`<text x="${padLeft}" y="${height - bottom + 14}" font-size="9">step 1</text>`);
  parts.push(`<text x="${width - padRight}" y="${height - bottom + 14}" font-size="9" text-anchor="end">step ${n}</text>`);
  series.forEach((s, k) => {
    const { y } = scale(s);
    const unit = (s as Series & Axis).unit;
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    if (s.values.length <= 200) {
      s.values.forEach((v, i) => parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"><title>${esc(`${i + 1}. ${stepTitles[i] ?? ''}: ${v.toLocaleString('en-US')}${unit ? ` ${unit}` : ''}`)}</title></circle>`));
    }
    const lx = padLeft + k * 260;
    parts.push(`<rect x="${lx}" y="${height - 14}" width="10" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${height - 10}" font-size="10">${esc(s.label)}${k === 0 && right !== undefined ? ' (left axis)' : k === 1 ? ' (right axis)' : ''}</text>`);
  });
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">\n${parts.join('\n')}\n</svg>`;
}
