const NS = 'http://www.w3.org/2000/svg';

/** One line of a chart. */
export interface Series {
  label: string;
  color: string;
  values: readonly number[];
}

function el(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * A small line chart of values per step (x = step 1…n), each series scaled to its own maximum so lines of
 * different units share the chart; the legend gives each line's value at the current step. A vertical rule marks
 * the current step.
 */
export function lineChart(title: string, series: readonly Series[], current: number): HTMLElement {
  const w = 360;
  const hgt = 110;
  const pad = 6;
  const fig = document.createElement('figure');
  fig.className = 'chart';
  const svg = el('svg', { width: w, height: hgt, viewBox: `0 0 ${w} ${hgt}`, role: 'img', 'aria-label': title }) as SVGSVGElement;
  svg.append(el('rect', { x: 0, y: 0, width: w, height: hgt, fill: '#fafbfc', stroke: '#d0d7de' }));
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const x = (i: number) => pad + (n === 1 ? 0 : (i * (w - 2 * pad)) / (n - 1));
  for (const s of series) {
    const max = Math.max(1, ...s.values);
    const min = Math.min(0, ...s.values);
    const y = (v: number) => hgt - pad - ((v - min) * (hgt - 2 * pad)) / (max - min || 1);
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    svg.append(el('polyline', { points: pts, fill: 'none', stroke: s.color, 'stroke-width': 1.5 }));
  }
  if (current >= 1) svg.append(el('line', { x1: x(current - 1), x2: x(current - 1), y1: 0, y2: hgt, stroke: '#e11d48', 'stroke-dasharray': '3 2' }));
  const cap = document.createElement('figcaption');
  cap.append(`${title}, at step ${current}: `);
  series.forEach((s, i) => {
    const key = document.createElement('span');
    key.className = 'key';
    key.style.color = s.color;
    key.textContent = `${i > 0 ? ' · ' : ''}■ ${s.label} ${s.values[current - 1] ?? '–'}`;
    cap.append(key);
  });
  fig.append(svg, cap);
  return fig;
}
