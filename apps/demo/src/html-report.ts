import type { PmapFactory } from '@vmlayers/phys';
import { lineChart } from './chart.js';
import { addr, bytes, mapLine, meminfoLine } from './format.js';
import { frameMapModel, frameMapSvg } from './frame-map.js';
import type { Session } from './session.js';
import type { Step } from './step.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The frame map of the moment of peak allocation, as SVG (the report's picture, and `docs/frame-map.svg`). */
export function peakFrameMapSvg(session: Session, standalone = false): string {
  const peak = session.peak!;
  const model = frameMapModel(peak.pageMap, peak.owners, session.pageSize);
  return frameMapSvg(model, `Physical frames on ${session.arch.name} / ${session.vm.board.name} at step ${peak.step} (${peak.title})`, standalone);
}

/**
 * A self-contained HTML page (inline CSS and SVG, no script, no URL): the physical frame map coloured by owner and
 * every process's map at the moment of peak allocation, the page-table tree (MPU region table without an MMU) of
 * one process then, the meminfo timeline as a chart, and every step's narration.
 */
export function htmlReport(session: Session, steps: readonly Step[], title: string): string {
  const arch: PmapFactory = session.arch;
  const ps = session.pageSize;
  const peak = session.peak!;
  const tl = session.timeline;
  const boot = tl[0].meminfo;
  const titles = tl.map((t) => t.title);
  const chartPages = lineChart(
    'Memory in use since boot',
    'KiB',
    [{ label: 'frames allocated since boot (KiB)', color: '#3b82f6', values: tl.map((t) => (t.meminfo.page.alloc - boot.page.alloc) / 1024) }],
    titles,
  );
  const chartKernel = lineChart(
    'Kernel heap and map entries',
    '',
    [
      { label: 'kmalloc bytes in use', color: '#b83227', values: tl.map((t) => t.meminfo.kmalloc.used) },
      { label: 'map entries in use', color: '#22a06b', values: tl.map((t) => t.meminfo.map.entries) },
    ],
    titles,
  );

  const maps = Object.entries(peak.maps)
    .map(([pid, list]) => {
      const rows = list
        .map((m) => `<tr><td>${addr(m.start)}</td><td>${addr(m.end)}</td><td>${bytes(m.end - m.start)}</td><td>${esc(mapLine(m).split(' ')[1])}</td><td>${addr(m.offset)}</td><td>${esc(m.object)}</td></tr>`)
        .join('\n');
      return `<h3>pid ${pid}</h3>\n${list.length === 0 ? '<p>(no mappings)</p>' : `<table><tr><th>start</th><th>end</th><th>size</th><th>prot</th><th>offset</th><th>object</th></tr>\n${rows}</table>`}`;
    })
    .join('\n');

  let tables: string;
  if (peak.tables === null) {
    tables = '<p>No process was alive then.</p>';
  } else if (arch.capabilities.hasMmu) {
    const items = peak.tables.tables
      .map((t) => `<li style="margin-left:${t.level * 1.5}em"><b>level ${t.level}</b> table at ${addr(t.pa)}, first va ${addr(t.va)}, ${t.entries} valid entr${t.entries === 1 ? 'y' : 'ies'}</li>`)
      .join('\n');
    tables = `<p>The ${arch.name} page-table tree of pid ${peak.tables.pid}, root first: real tables in simulated RAM, walked by the MMU on a TLB miss.</p>\n<ul class="tree">\n${items}\n</ul>`;
  } else {
    const items = peak.tables.tables.map((t) => `<tr><td>${t.level}</td><td>${addr(t.pa)}</td><td>${bytes(t.entries)}</td></tr>`).join('\n');
    tables = `<p>No MMU: pid ${peak.tables.pid} runs in the one flat address space; its protection is the ARMv7-M MPU region table.</p>\n<table><tr><th>level</th><th>base</th><th>size</th></tr>\n${items}</table>`;
  }

  const stepList = steps
    .map((s) => `<li><b>${esc(s.title)}</b>${s.error ? ` <span class="err">${esc(s.error.code)}</span>` : ''}<br>${s.text.map((t) => esc(t).replace(/\n/g, '<br>')).join('<br>')}</li>`)
    .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #1d2330; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font: 12px ui-monospace, Menlo, Consolas, monospace; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
code, .mono, svg text { font-family: ui-monospace, Menlo, Consolas, monospace; }
ul.tree { font: 12px ui-monospace, Menlo, Consolas, monospace; list-style: none; padding-left: 0; }
ol.steps li { margin-bottom: .6em; } .err { color: #b83227; font-weight: bold; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>Architecture <b>${esc(arch.name)}</b> (${arch.capabilities.hasMmu ? 'MMU' : 'no MMU'}), board <b>${esc(session.vm.board.name)}</b>, ${bytes(ps)} pages, ${steps.length} steps.
The frame map and the process maps show step ${peak.step} (${esc(peak.title)}), the moment the most frames were allocated.</p>
<p class="mono">${esc(meminfoLine(boot, ps))} (boot)<br>${esc(meminfoLine(tl[tl.length - 1].meminfo, ps))} (end)</p>

<h2 id="frames">Physical frame map</h2>
${peakFrameMapSvg(session)}

<h2 id="maps">Process maps</h2>
${maps || '<p>No process was alive.</p>'}

<h2 id="tables">Page tables</h2>
${tables}

<h2 id="timeline">meminfo timeline</h2>
${chartPages}
${chartKernel}

<h2 id="steps">Steps</h2>
<ol class="steps">
${stepList}
</ol>
</body>
</html>
`;
}

