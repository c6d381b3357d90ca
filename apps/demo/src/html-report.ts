import type { PmapFactory } from '@vmlayers/phys';
import { leafFlags } from '@vmlayers/pmap-mmu';
import { lineChart } from './chart.js';
import { addr, bytes, meminfoLine } from './format.js';
import { frameMapModel, frameMapSvg } from './frame-map.js';
import type { Session, Snapshot } from './session.js';
import type { Step } from './step.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Page-table levels by depth from the root, as each architecture's manual names them. */
const LEVEL_NAMES: Readonly<Record<string, readonly string[]>> = {
  // The RISC-V privileged spec numbers Sv39's levels from the leaf: the root is level 2.
  sv39: ['level 2', 'level 1', 'level 0'],
  ia32: ['page directory', 'page table'],
};

/** The name of a page-table level `depth` below the root on `arch`. */
export function levelName(arch: string, depth: number): string {
  return LEVEL_NAMES[arch]?.[depth] ?? `depth ${depth}`;
}


/** `pid 3 (child)` when a trace named the process, else `pid 3`. */
export function pidLabel(session: Session, pid: number | string): string {
  const name = session.names.get(Number(pid));
  return name === undefined ? `pid ${pid}` : `pid ${pid} (${name})`;
}

/** The frame map of the moment of peak allocation, as SVG (the report's picture, and `docs/frame-map.svg`). */
export function peakFrameMapSvg(session: Session, standalone = false): string {
  const peak = session.peak!;
  const model = frameMapModel(peak.pageMap, peak.owners, session.pageSize, 64, 128 * 128, session.names);
  return frameMapSvg(model, `Physical frames on ${session.arch.name} / ${session.vm.board.name} at step ${peak.step} (${peak.title})`, standalone);
}

function tablesHtml(session: Session, peak: Snapshot): string {
  const arch: PmapFactory = session.arch;
  const t = peak.tables;
  if (t === null) return '<p>No process was alive then.</p>';
  const who = esc(pidLabel(session, t.pid));
  if (arch.capabilities.hasMmu) {
    const items = t.tables
      .map((x) => `<li style="margin-left:${x.level * 1.5}em"><b>${esc(levelName(arch.name, x.level))}</b> table at ${addr(x.pa)}, first va ${addr(x.va)}, ${x.entries} valid entr${x.entries === 1 ? 'y' : 'ies'} of ${bytes(x.span)} each</li>`)
      .join('\n');
    return `<p>The ${arch.name} page-table tree of ${who}, root first: real tables in simulated RAM, walked by the MMU on a TLB miss.</p>\n<ul class="tree">\n${items}\n</ul>`;
  }
  const v8 = t.mpu !== null && t.mpu.some((r) => r.srd === null);
  const rows =
    t.mpu === null || t.mpu.length === 0
      ? t.tables.map((x) => `<tr><td></td><td>${addr(x.pa)}</td><td></td><td></td><td></td><td></td><td>${bytes(x.entries)}</td></tr>`)
      : t.mpu.map(
          (r) =>
            `<tr><td>${r.slot}</td><td>${addr(r.base)}</td><td>${bytes(r.size)}</td><td>0b${r.ap.toString(2).padStart(v8 ? 2 : 3, '0')} (${esc(r.access)})</td>` +
            `<td>${r.xn ? '1 (no execute)' : '0'}</td><td>${r.srd === null ? esc(r.memory ?? '') : `0x${r.srd.toString(16).padStart(2, '0')}`}</td><td>${bytes(r.covered)}</td></tr>`,
        );
  return v8
    ? `<p>No MMU: ${who} runs in the one flat address space; its protection is the ARMv8-M (PMSAv8) MPU region table: the slots its address space enables, as programmed (RBAR base, AP and XN; RLAR limit and the MAIR attribute its AttrIndx names). Regions may not overlap: an access two enabled regions hold faults.</p>\n` +
        `<table><tr><th>slot</th><th>base</th><th>size</th><th>AP</th><th>XN</th><th>memory</th><th>bytes covered</th></tr>\n${rows.join('\n')}</table>`
    : `<p>No MMU: ${who} runs in the one flat address space; its protection is the ARMv7-M MPU region table: the slots its address space enables, as programmed (RBAR base, RASR SIZE, AP, XN, SRD: bit i of SRD disables the i-th eighth of the region).</p>\n` +
        `<table><tr><th>slot</th><th>base</th><th>size</th><th>AP</th><th>XN</th><th>SRD</th><th>bytes covered</th></tr>\n${rows.join('\n')}</table>`;
}

/** Rows shown per process in the present-entries table; the rest is counted. */
const LEAF_ROWS = 128;

/** With an MMU, each process's present page-table entries at the peak: va → pa and the flags read from the PTE. */
function leavesHtml(session: Session, peak: Snapshot): string {
  const pids = Object.keys(peak.leaves).map(Number);
  if (pids.length === 0) return '';
  const parts = pids.map((pid) => {
    const leaves = peak.leaves[pid];
    const rows = leaves
      .slice(0, LEAF_ROWS)
      .map((l) => `<tr><td>${addr(l.va)}</td><td>${addr(l.pa)}</td><td>${esc(leafFlags(l.bits))}</td><td>${addr(l.pte)}</td></tr>`)
      .join('\n');
    const more = leaves.length > LEAF_ROWS ? `<p>… and ${leaves.length - LEAF_ROWS} more.</p>` : '';
    const body = leaves.length === 0 ? '<p>(no present entry: nothing touched yet)</p>' : `<table><tr><th>va</th><th>pa</th><th>U R W X G A D</th><th>PTE at</th></tr>\n${rows}</table>${more}`;
    return `<h3>${esc(pidLabel(session, pid))}: ${leaves.length} present entr${leaves.length === 1 ? 'y' : 'ies'}</h3>\n${body}`;
  });
  return (
    `<h2 id="entries">Present page-table entries</h2>\n<p>Every present leaf of each process's own half, read from the ${esc(session.arch.name)} PTEs in RAM ` +
    `(<code>dumpTables</code> of <code>@vmlayers/pmap-mmu</code>): the flags are the hardware's, A and D set by the accesses themselves.</p>\n${parts.join('\n')}`
  );
}

/**
 * With reclaim on, the swap device and what reclaim did: the policy and resident limit, then per step the swap
 * slots used of the total, the resident anonymous pages, and the evictions, swap-outs and swap-ins (major faults)
 * since boot. Empty without reclaim.
 */
function reclaimHtml(session: Session): string {
  const tl = session.timeline;
  const end = tl[tl.length - 1]?.meminfo;
  if (end?.reclaim === undefined) return '';
  const ps = session.pageSize;
  const slots = (m: (typeof tl)[number]['meminfo']) => (m.swap === undefined ? '–' : `${(m.swap.total - m.swap.free) / ps} of ${m.swap.total / ps}`);
  const rows = tl
    .map((t) => {
      const r = t.meminfo.reclaim;
      if (r === undefined) return '';
      return `<tr><td>${t.step}</td><td>${esc(t.title)}</td><td>${slots(t.meminfo)}</td><td>${r.resident}</td><td>${r.evictions}</td><td>${r.swapOuts}</td><td>${r.swapIns}</td></tr>`;
    })
    .join('\n');
  const r = end.reclaim;
  return (
    `<h2 id="reclaim">Reclaim and swap</h2>\n<p>Policy <b>${esc(r.policy)}</b>, ${r.limit === null ? 'no resident limit (pages go to swap when frames run out)' : `at most <b>${r.limit}</b> resident anonymous page${r.limit === 1 ? '' : 's'}`}; ` +
    `swap slots used at the end: <b>${slots(end)}</b>. In all, <b>${r.evictions}</b> evictions, <b>${r.swapOuts}</b> swap-outs and <b>${r.swapIns}</b> swap-ins (major faults).</p>\n` +
    `<table class="reclaim"><tr><th>step</th><th>title</th><th>swap slots used</th><th>resident anonymous pages</th><th>evictions</th><th>swap-outs</th><th>swap-ins</th></tr>\n${rows}</table>`
  );
}

/** A step's text: prose as paragraphs, a block with line breaks (the board's map) as `<pre>`. */
function stepText(t: string): string {
  const nl = t.indexOf('\n');
  if (nl < 0) return esc(t);
  return `${esc(t.slice(0, nl))}<pre>${esc(t.slice(nl + 1))}</pre>`;
}

/**
 * A self-contained HTML page (inline CSS and SVG, no script, no URL): the board's memory map, the physical frame map
 * coloured by owner and every process's map at the moment of peak allocation, the page-table tree (MPU region table
 * without an MMU) of one process then, the meminfo timeline as charts, and every step's narration. Processes a
 * trace named carry their names beside their pids.
 */
export function htmlReport(session: Session, steps: readonly Step[], title: string): string {
  const arch: PmapFactory = session.arch;
  const board = session.vm.board;
  const ps = session.pageSize;
  const peak = session.peak!;
  const tl = session.timeline;
  const boot = tl[0].meminfo;
  const titles = tl.map((t) => t.title);
  const chartPages = lineChart(
    'Memory in use since boot',
    { label: 'frames allocated since boot', title: 'KiB allocated since boot', unit: 'KiB', color: '#3b82f6', values: tl.map((t) => (t.meminfo.page.alloc - boot.page.alloc) / 1024) },
    titles,
  );
  const chartKernel = lineChart(
    'Kernel heap and map entries',
    { label: 'kmalloc bytes in use', title: 'kmalloc bytes in use', unit: 'B', color: '#b83227', values: tl.map((t) => t.meminfo.kmalloc.used) },
    titles,
    { label: 'map entries in use', title: 'map entries in use', unit: '', color: '#22a06b', values: tl.map((t) => t.meminfo.map.entries) },
  );

  const maps = Object.entries(peak.mapsText)
    .map(([pid, text]) => `<h3>${esc(pidLabel(session, pid))}</h3>\n${text === '' ? '<p>(no mappings)</p>' : `<pre>${esc(text)}</pre>`}`)
    .join('\n');

  const regions = board.regions.map((r) => `${addr(r.base, 9)}-${addr(r.base + r.size, 9)}  ${r.kind.padEnd(8)} ${r.name} (${bytes(r.size)})`).join('\n');
  const first = steps[0];
  const last = steps[steps.length - 1];
  const meminfoTable =
    first !== undefined && last !== undefined
      ? `<table class="meminfo"><tr><th>/proc/meminfo at boot</th><th>at the end</th></tr><tr><td><pre>${esc(first.meminfoText)}</pre></td><td><pre>${esc(last.meminfoText)}</pre></td></tr></table>`
      : '';

  const stepList = steps
    .map((s) => `<li><b>${esc(s.title)}</b>${s.error ? ` <span class="err">${esc(s.error.code)}</span>` : ''}<br>${s.text.map(stepText).join('<br>')}</li>`)
    .join('\n');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; padding: 0 1em; color: #1d2330; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font: 12px ui-monospace, Menlo, Consolas, monospace; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; vertical-align: top; }
pre { font: 12px ui-monospace, Menlo, Consolas, monospace; overflow-x: auto; margin: .3em 0; }
code, .mono, svg text { font-family: ui-monospace, Menlo, Consolas, monospace; }
svg { max-width: 100%; height: auto; }
ul.tree { font: 12px ui-monospace, Menlo, Consolas, monospace; list-style: none; padding-left: 0; }
ol.steps li { margin-bottom: .6em; } .err { color: #b83227; font-weight: bold; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>Architecture <b>${esc(arch.name)}</b> (${arch.capabilities.hasMmu ? 'MMU' : 'no MMU'}), board <b>${esc(board.name)}</b>, ${bytes(ps)} pages, ${steps.length} steps.
The frame map and the process maps show step ${peak.step} (${esc(peak.title)}), the moment the most frames were allocated.</p>
<p class="mono">${esc(meminfoLine(boot, ps, board))} (boot)<br>${esc(meminfoLine(tl[tl.length - 1].meminfo, ps, board))} (end)</p>
${meminfoTable}

<h2 id="board">Board memory map</h2>
<pre>${esc(regions)}</pre>

<h2 id="frames">Physical frame map</h2>
${peakFrameMapSvg(session)}

<h2 id="maps">Process maps</h2>
${maps || '<p>No process was alive.</p>'}

<h2 id="tables">${arch.capabilities.hasMmu ? 'Page tables' : 'MPU regions'}</h2>
${tablesHtml(session, peak)}
${leavesHtml(session, peak)}

<h2 id="timeline">meminfo timeline</h2>
${chartPages}
${chartKernel}
${reclaimHtml(session)}
<h2 id="steps">Steps</h2>
<ol class="steps">
${stepList}
</ol>
</body>
</html>
`;
}
