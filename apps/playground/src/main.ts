import './style.css';
import { ARCHES, ARCH_NAMES, TraceErrors, addr } from '@vmlayers/demo/lib';
import { boards, isVmError } from '@vmlayers/phys';
import { createVm } from '@vmlayers/memobj';
import { Run } from './run.js';
import type { RunConfig } from './run.js';
import { WORKLOADS } from './workloads.js';
import { byId, fill, h } from './view/dom.js';
import { FrameMapView } from './view/frame-map.js';
import { renderFrameInfo, renderProcesses, renderStory, renderCharts, renderLegend, TRACE_HELP } from './view/panels.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
/** One-bank boards the menu offers beside the presets: the sizes a step's cost is quoted for. */
const RAM_SIZES = [64 * MiB, 4 * GiB];
const CUSTOM = 'custom';

const archSel = byId<HTMLSelectElement>('arch');
const boardSel = byId<HTMLSelectElement>('board');
const workSel = byId<HTMLSelectElement>('workload');
const editorPanel = byId('editor-panel');
const editor = byId<HTMLTextAreaElement>('editor');
const traceErrors = byId('trace-errors');
const canvas = byId<HTMLCanvasElement>('frame-map');
const map = new FrameMapView(canvas);

let run: Run | null = null;
/** The frame being inspected (its address), kept across steps. */
let selectedFrame: number | null = null;
/** The table being inspected: pid and table address. */
let selectedTable: { pid: number; pa: number } | null = null;
const usable = new Map<string, string[]>();

/** The boards an architecture boots on: the presets it accepts and the one-bank sizes (tried once, then kept). */
function boardsFor(arch: string): string[] {
  let list = usable.get(arch);
  if (list !== undefined) return list;
  const a = ARCHES[arch];
  const names = [a.defaultBoard, ...boards.names().filter((n) => n !== a.defaultBoard)];
  list = [];
  for (const name of [...names, ...RAM_SIZES.map((s) => `ram:${s}`)]) {
    try {
      createVm({ arch: a, ...boardOption(name) });
      list.push(name);
    } catch (e) {
      if (!isVmError(e)) throw e;
    }
  }
  usable.set(arch, list);
  return list;
}

function boardOption(name: string): { board?: string; ramSize?: number } {
  return name.startsWith('ram:') ? { ramSize: Number(name.slice(4)) } : { board: name };
}

function boardLabel(name: string): string {
  if (!name.startsWith('ram:')) return name;
  const n = Number(name.slice(4));
  return n >= GiB ? `${n / GiB} GiB of RAM` : `${n / MiB} MiB of RAM`;
}

function setOptions(sel: HTMLSelectElement, items: readonly { value: string; label: string }[], value?: string): void {
  fill(sel, ...items.map((i) => h('option', { value: i.value }, i.label)));
  if (value !== undefined && items.some((i) => i.value === value)) sel.value = value;
}

function config(): RunConfig | null {
  const choice = WORKLOADS.find((w) => w.id === workSel.value);
  const workload = choice ? choice.workload : workSel.value === CUSTOM ? { kind: 'trace' as const, file: 'your.trace', text: editor.value } : null;
  if (workload === null) return null;
  return { arch: archSel.value, ...boardOption(boardSel.value), workload };
}

/** Starts a new run of what the menus say (a custom trace only from its button). */
function start(fromEditor = false): void {
  fill(traceErrors);
  if (workSel.value === CUSTOM && !fromEditor) {
    run = null;
    render();
    return;
  }
  const c = config();
  if (c === null) return;
  selectedFrame = null;
  selectedTable = null;
  try {
    run = new Run(c);
  } catch (e) {
    run = null;
    if (e instanceof TraceErrors) {
      // A bad trace runs nothing: every bad line, with its number.
      fill(traceErrors, ...e.errors.map((t) => h('li', { 'data-line': t.line }, t.message)));
    } else {
      fill(traceErrors, h('li', {}, e instanceof Error ? e.message : String(e)));
    }
  }
  render();
}

function render(): void {
  const r = run;
  const back = byId<HTMLButtonElement>('back');
  const fwd = byId<HTMLButtonElement>('forward');
  const end = byId<HTMLButtonElement>('end');
  const reset = byId<HTMLButtonElement>('reset');
  document.body.classList.toggle('no-run', r === null);
  if (r === null) {
    for (const b of [back, fwd, end, reset]) b.disabled = true;
    fill(byId('position'), 'nothing running');
    for (const id of ['step-title', 'narration', 'cow', 'meminfo', 'free-frames', 'charts', 'proc-list', 'table-entries', 'frame-info', 'legend', 'step-error']) fill(byId(id));
    canvas.width = 0;
    canvas.height = 0;
    return;
  }
  const rec = r.current;
  back.disabled = r.position <= 1;
  fwd.disabled = r.ended && r.position === r.records.length;
  end.disabled = fwd.disabled;
  reset.disabled = false;
  const total = r.ended ? `${r.records.length}` : `${r.records.length}+`;
  fill(byId('position'), `step ${r.position} of ${total}`);
  const vm = r.session.vm;
  const ps = vm.arch.pageSize;
  const arrows = rec.step.events.flatMap((e) => (e.type === 'cow' ? [{ from: r.cellOf(e.from), to: r.cellOf(e.pa) }] : []));
  map.draw(rec.model, { changed: r.changedCells(), arrows, selected: selectedFrame === null ? -1 : r.cellOf(selectedFrame) });
  renderLegend(byId('legend'), rec.model);
  renderStory(rec, r.failure, r.ended && r.position === r.records.length, ps);
  // The charts end at the step shown, so a step looks the same however it was reached.
  renderCharts(byId('charts'), r.records.slice(0, r.position), r.position);
  renderProcesses(byId('proc-list'), byId('table-entries'), vm, rec, selectedTable, (t) => {
    selectedTable = t;
    render();
  });
  renderFrameInfo(byId('frame-info'), vm, r.session.recorder.owners, selectedFrame, rec.model.framesPerCell);
  fill(byId('timing'), `step ${r.position} ran in ${rec.ms.toFixed(1)} ms on ${vm.board.name} (${vm.arch.name})`);
  saveHash();
}

function act(f: (r: Run) => void): void {
  if (run === null) return;
  f(run);
  render();
}

function selectFrame(pa: number | null): void {
  selectedFrame = pa;
  render();
}

// Menus.
setOptions(
  archSel,
  ARCH_NAMES.map((a) => ({ value: a, label: a })),
);
/** The boards of the chosen architecture, its default board selected. */
function refreshBoards(): void {
  setOptions(
    boardSel,
    boardsFor(archSel.value).map((b) => ({ value: b, label: boardLabel(b) })),
    ARCHES[archSel.value].defaultBoard,
  );
}
refreshBoards();
setOptions(workSel, [...WORKLOADS.map((w) => ({ value: w.id, label: w.label })), { value: CUSTOM, label: 'Your own trace…' }]);
archSel.addEventListener('change', () => (refreshBoards(), start()));
boardSel.addEventListener('change', () => start());
workSel.addEventListener('change', () => {
  editorPanel.hidden = workSel.value !== CUSTOM;
  // The editor starts with a sample to change.
  const sample = WORKLOADS.find((w) => w.id === 'scenario.trace')?.workload;
  if (workSel.value === CUSTOM && editor.value === '' && sample?.kind === 'trace') editor.value = sample.text;
  start();
});
byId('run-trace').addEventListener('click', () => start(true));
byId('trace-help').textContent = TRACE_HELP;
byId('trace-help-toggle').addEventListener('click', (e) => {
  e.preventDefault();
  byId('trace-help').hidden = !byId('trace-help').hidden;
});
// A trace file dropped on the editor replaces its text.
editor.addEventListener('dragover', (e) => e.preventDefault());
editor.addEventListener('drop', (e) => {
  const file = e.dataTransfer?.files[0];
  if (file === undefined) return;
  e.preventDefault();
  void file.text().then((t) => (editor.value = t));
});

// Stepping.
byId('reset').addEventListener('click', () => act((r) => r.goTo(1)));
byId('back').addEventListener('click', () => act((r) => r.back()));
byId('forward').addEventListener('click', () => act((r) => r.forward()));
byId('end').addEventListener('click', () => act((r) => r.toEnd()));
document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement | null;
  if (t !== null && (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT' || t.tagName === 'SELECT')) return;
  const keys: Record<string, (r: Run) => void> = {
    ArrowRight: (r) => r.forward(),
    ArrowLeft: (r) => r.back(),
    Home: (r) => r.goTo(1),
    End: (r) => r.toEnd(),
  };
  const f = keys[e.key];
  if (f === undefined || run === null) return;
  e.preventDefault();
  act(f);
});

// Frames.
canvas.addEventListener('click', (e) => {
  if (run === null) return;
  const box = canvas.getBoundingClientRect();
  const cell = map.cellAt(e.clientX - box.left, e.clientY - box.top);
  if (cell >= 0) selectFrame(run.cellAddrs[cell]);
});
byId('frame-go').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = byId<HTMLInputElement>('frame-addr').value.trim();
  const pa = Number(text);
  if (text === '' || !Number.isSafeInteger(pa) || pa < 0) {
    fill(byId('frame-info'), h('p', { class: 'error' }, `not an address: ${JSON.stringify(text)}`));
    return;
  }
  selectFrame(pa);
});

/**
 * A handle for scripts driving the page (the browser tests, the screenshot script): the run, and where a frame is
 * drawn. Reading it changes nothing.
 */
const hook = {
  get run(): Run | null {
    return run;
  },
  /** Page coordinates of the centre of the cell holding `pa`, or null. */
  frameCentre(pa: number): { x: number; y: number } | null {
    if (run === null) return null;
    const c = map.cellCentre(run.cellOf(pa));
    if (c === null) return null;
    const box = canvas.getBoundingClientRect();
    return { x: box.left + c.x, y: box.top + c.y };
  },
  addr,
};
(globalThis as unknown as { vmlayersPlayground: typeof hook }).vmlayersPlayground = hook;

/**
 * The address of what is shown: `#arch=ia32&board=…&workload=shell.trace&step=12` opens that step (a link a teacher
 * can hand out). A custom trace is not in the address: only its step.
 */
function saveHash(): void {
  if (run === null) return;
  const q = new URLSearchParams({ arch: archSel.value, board: boardSel.value, workload: workSel.value, step: String(run.position) });
  history.replaceState(null, '', `#${q}`);
}

function loadHash(): void {
  const q = new URLSearchParams(location.hash.slice(1));
  const arch = q.get('arch');
  if (arch !== null && ARCH_NAMES.includes(arch)) (archSel.value = arch), refreshBoards();
  const board = q.get('board');
  if (board !== null && [...boardSel.options].some((o) => o.value === board)) boardSel.value = board;
  const work = q.get('workload');
  if (work !== null && WORKLOADS.some((w) => w.id === work)) workSel.value = work;
  start();
  const step = Number(q.get('step'));
  if (run !== null && Number.isSafeInteger(step) && step > 1) act((r) => r.goTo(step));
}

loadHash();
