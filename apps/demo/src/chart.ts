/** One series of a {@link lineChart}. */
export interface Series {
  label: string;
  color: string;
  values: number[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A small inline SVG line chart (no script, no URL): x is the step, y from 0 to the largest value, one polyline and
 * its legend per series, step titles as tooltips on the points.
 */
export function lineChart(title: string, unit: string, series: Series[], stepTitles: string[], width = 720, height = 180): string {
  const left = 64;
  const right = 12;
  const top = 24;
  const bottom = 36;
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i: number) => left + (n === 1 ? 0 : (i * (width - left - right)) / (n - 1));
  const y = (v: number) => top + (height - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  parts.push(`<text x="0" y="14" font-size="12" font-weight="bold">${esc(title)}</text>`);
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 4}" y="${y(v) + 3}" font-size="9" text-anchor="end">${Math.round(v).toLocaleString('en-US')} ${esc(unit)}</text>`);
  }
  parts.push(`<text x="${left}" y="${height - bottom + 14}" font-size="9">step 1</text>`);
  parts.push(`<text x="${width - right}" y="${height - bottom + 14}" font-size="9" text-anchor="end">step ${n}</text>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`);
    if (s.values.length <= 200) {
      s.values.forEach((v, i) => parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${s.color}"><title>${esc(`${i + 1}. ${stepTitles[i] ?? ''}: ${v.toLocaleString('en-US')} ${unit}`)}</title></circle>`));
    }
    const lx = left + k * 220;
    parts.push(`<rect x="${lx}" y="${height - 14}" width="10" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 14}" y="${height - 10}" font-size="10">${esc(s.label)}</text>`);
  });
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">\n${parts.join('\n')}\n</svg>`;
}
