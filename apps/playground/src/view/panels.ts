import { addr, bytes } from '@vmlayers/demo/lib';
import type { FrameMapModel, FrameOwner } from '@vmlayers/demo/lib';
import type { Vm } from '@vmlayers/memobj';
import { Prot } from '@vmlayers/phys';
import { frameDetails, mpuRegions, tableEntries, tableTree } from '../inspect.js';
import type { StepRecord } from '../run.js';
import { byId, fill, h } from './dom.js';
import { lineChart } from './charts.js';

/** The demo's trace syntax, shown beside the editor. */
export const TRACE_HELP = `spawn P                          a new process P
fork P C                         C: a copy-on-write child of P
exit P
object O SIZE ["TEXT"]           a memory object
release O                        drop the trace's reference to O
mmap P R SIZE PROT private|shared [object O [OFFSET]]
munmap P R [OFFSET SIZE]
mprotect P R OFFSET SIZE PROT
write P R OFFSET "TEXT"   |  write P R OFFSET SIZE [BYTE]
read P R OFFSET "TEXT"    |  read P R OFFSET SIZE [BYTE]
expect ERRNO [on ARCH,…|mmu|nommu]   the line before must fail so
SIZE, OFFSET: 4096, 16K, 1M, or pages: 3p.  PROT: rwx letters or none.  # starts a comment.`;

function protText(prot: number): string {
  return `${prot & Prot.READ ? 'r' : '-'}${prot & Prot.WRITE ? 'w' : '-'}${prot & Prot.EXEC ? 'x' : '-'}`;
}

/** The colour key of the frame map, with each kind's frame count. */
export function renderLegend(el: HTMLElement, model: FrameMapModel): void {
  const per = model.framesPerCell === 1 ? `one cell = one ${bytes(model.pageSize)} frame` : `one cell = ${model.framesPerCell} frames of ${bytes(model.pageSize)}`;
  fill(
    el,
    h('li', { class: 'per' }, per, '; outlined: changed by this step'),
    ...model.kinds.map((k) => h('li', {}, h('span', { class: 'swatch', style: `background:${k.color}` }), ` ${k.label}: ${model.counts[k.key] ?? 0}`)),
  );
}

/** The step's title, narration, copy-on-write arrows, error, and meminfo. */
export function renderStory(rec: StepRecord, failure: Error | null, atEnd: boolean, pageSize: number): void {
  const s = rec.step;
  fill(byId('step-title'), `${rec.index}. ${s.title}`);
  fill(byId('narration'), ...s.text.map((t) => h('li', {}, t)));
  const cows = s.events.flatMap((e) => (e.type === 'cow' ? [e] : []));
  fill(
    byId('cow'),
    ...cows.map((e) =>
      h(
        'p',
        { class: 'cow', 'data-from': e.from, 'data-to': e.pa },
        `copy-on-write in pid ${e.pid} at ${addr(e.va)}: frame `,
        h('code', {}, addr(e.from)),
        h('span', { class: 'arrow', 'aria-label': 'copied to' }, ' ⟶ '),
        h('code', {}, addr(e.pa)),
        ' (the arrow on the frame map)',
      ),
    ),
  );
  const errs: HTMLElement[] = [];
  if (s.error) errs.push(h('p', { class: 'error' }, s.error.message.startsWith(s.error.code) ? s.error.message : `${s.error.code}: ${s.error.message}`));
  if (failure !== null && atEnd) errs.push(h('p', { class: 'error failure' }, `The run stopped: ${failure.message}`));
  fill(byId('step-error'), ...errs);
  fill(byId('meminfo'), s.meminfoText);
  fill(byId('free-frames'), String(s.meminfo.page.free / pageSize));
}

/** meminfo and TLB counts over the steps run so far. */
export function renderCharts(el: HTMLElement, records: readonly StepRecord[], position: number): void {
  const ps = records[0]?.model.pageSize ?? 4096;
  fill(
    el,
    lineChart(
      'Memory',
      [
        { label: 'free frames', color: '#22a06b', values: records.map((r) => r.step.meminfo.page.free / ps) },
        { label: 'kmalloc KiB used', color: '#b83227', values: records.map((r) => Math.round(r.step.meminfo.kmalloc.used / 1024)) },
        { label: 'map entries', color: '#5b7db1', values: records.map((r) => r.step.meminfo.map.entries) },
      ],
      position,
    ),
    lineChart(
      'TLB (all address spaces, since boot)',
      [
        { label: 'hits', color: '#0ea5c6', values: records.map((r) => r.tlb.hits) },
        { label: 'misses', color: '#e5489a', values: records.map((r) => r.tlb.misses) },
        { label: 'flushes', color: '#8a8f98', values: records.map((r) => r.tlb.flushes) },
      ],
      position,
    ),
  );
}


/**
 * Every live process: its `/proc/<pid>/maps` lines, and its page-table tree (a table's present entries on click)
 * or, without an MMU, the MPU regions its address space enables.
 */
export function renderProcesses(
  list: HTMLElement,
  entriesEl: HTMLElement,
  vm: Vm,
  rec: StepRecord,
  selected: { pid: number; pa: number } | null,
  select: (t: { pid: number; pa: number } | null) => void,
): void {
  const pids = Object.keys(rec.step.mapsText)
    .map(Number)
    .sort((a, b) => a - b);
  let shown = false;
  fill(
    list,
    pids.length === 0 ? h('p', { class: 'note' }, 'No process is running.') : null,
    ...pids.map((pid) => {
      const changed = rec.step.mapsChanged.includes(pid);
      const mpu = mpuRegions(vm, pid);
      let inner: HTMLElement;
      if (mpu !== null) {
        const v8 = mpu.some((r) => r.srd === null);
        inner = h(
          'table',
          { class: 'mpu' },
          h('caption', {}, `MPU regions enabled for this process (${v8 ? 'ARMv8-M PMSAv8: base/limit, no overlap' : 'ARMv7-M PMSAv7: power-of-two sizes, subregions'})`),
          h('tr', {}, ...['slot', 'base', 'size', 'AP', 'XN', v8 ? 'memory' : 'subregions off', 'covered'].map((c) => h('th', {}, c))),
          ...mpu.map((r) =>
            h(
              'tr',
              {},
              h('td', {}, r.slot),
              h('td', {}, addr(r.base)),
              h('td', {}, bytes(r.size)),
              h('td', {}, r.access),
              h('td', {}, r.xn ? 'yes' : 'no'),
              h('td', {}, r.srd === null ? (r.memory ?? '') : `0b${r.srd.toString(2).padStart(8, '0')}`),
              h('td', {}, bytes(r.covered)),
            ),
          ),
        );
      } else {
        const nodes = tableTree(vm, pid);
        inner = h(
          'ul',
          { class: 'tables', 'aria-label': `page tables of pid ${pid}` },
          ...nodes.map((n, i) => {
            const on = selected !== null && selected.pid === pid && selected.pa === n.table.pa;
            if (on) {
              shown = true;
              const entries = tableEntries(vm, pid, nodes, i);
              fill(
                entriesEl,
                h('h3', {}, `pid ${pid}: level-${n.table.level} table at ${addr(n.table.pa)} (${entries.length} present entries)`),
                h(
                  'table',
                  { class: 'entries' },
                  h('tr', {}, ...['#', 'va', '→ pa', 'size', 'flags (U R W X G A D)'].map((c) => h('th', {}, c))),
                  ...entries.map((e) =>
                    h('tr', {}, h('td', {}, e.slot), h('td', {}, addr(e.va)), h('td', {}, addr(e.pa)), h('td', {}, bytes(e.size)), h('td', {}, e.flags ?? 'next-level table')),
                  ),
                ),
              );
            }
            return h(
              'li',
              { style: `margin-left:${n.table.level * 1.2}em` },
              h(
                'button',
                { type: 'button', class: on ? 'table on' : 'table', 'data-pa': n.table.pa, 'data-level': n.table.level, onclick: () => select(on ? null : { pid, pa: n.table.pa }) },
                `level ${n.table.level} at ${addr(n.table.pa)}, from va ${addr(n.table.va)}: ${n.table.entries} entr${n.table.entries === 1 ? 'y' : 'ies'}`,
              ),
            );
          }),
        );
      }
      return h(
        'section',
        { class: changed ? 'process changed' : 'process', 'data-pid': pid },
        h('h3', {}, `pid ${pid}${changed ? ' (map changed)' : ''}`),
        h('pre', { class: 'maps', 'data-pid': pid }, rec.step.mapsText[pid]),
        inner,
      );
    }),
  );
  if (!shown) fill(entriesEl, vm.arch.capabilities.hasMmu && pids.length > 0 ? h('p', { class: 'note' }, 'Click a table to see its present entries.') : null);
}

/** The inspected frame: the allocator's record, who took it, and every page that maps it. */
export function renderFrameInfo(el: HTMLElement, vm: Vm, owners: ReadonlyMap<number, FrameOwner>, pa: number | null, framesPerCell: number): void {
  if (pa === null) {
    fill(el, h('p', { class: 'note' }, 'Click a frame (or give its address) to see its owner and who maps it.'));
    return;
  }
  const d = frameDetails(vm, owners, pa);
  const block = d.block;
  fill(
    el,
    h('h3', {}, `Frame ${addr(d.pa)}${framesPerCell > 1 ? ` (first of the ${framesPerCell} in its cell)` : ''}`),
    h(
      'dl',
      {},
      h('dt', {}, 'region'),
      h('dd', {}, d.region ? `${d.region.name} (${d.region.kind})` : 'none: no memory here'),
      h('dt', {}, 'block'),
      h('dd', {}, block === null ? '—' : block.free ? `free, in a block of order ${block.order} at ${addr(block.head)}` : `order ${block.order} at ${addr(block.head)}, owner ${block.owner}, usage ${block.usage}`),
      h('dt', {}, 'taken by'),
      h('dd', {}, d.zeroPage ? 'the kernel: the shared zero page' : d.takenBy ? `${d.takenBy.pid !== undefined ? `pid ${d.takenBy.pid}` : 'no process'} for ${d.takenBy.object}` : '—'),
    ),
    h('h4', {}, `Mapped by ${d.mappings.length} page${d.mappings.length === 1 ? '' : 's'}`),
    h(
      'ul',
      { class: 'mappings' },
      ...d.mappings.map((m) =>
        h('li', { class: 'mapping', 'data-pid': m.pid, 'data-va': m.va }, `pid ${m.pid}  ${addr(m.va)}  ${protText(m.prot)}  ${m.object}${m.pte !== null ? `  PTE ${m.pte}` : ''}`),
      ),
    ),
  );
}
