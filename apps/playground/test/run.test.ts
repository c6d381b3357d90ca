import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHES, ARCH_NAMES, Session, TraceErrors, runScenario } from '@vmlayers/demo/lib';
import type { Step } from '@vmlayers/demo/lib';
import { describe, expect, it } from 'vitest';
import { frameDetails, tableEntries, tableTree } from '../src/inspect.js';
import { Run } from '../src/run.js';
import type { MmuPmap } from '@vmlayers/pmap-mmu';

const TRACES = join(import.meta.dirname, '..', '..', 'demo', 'traces');
const traceFiles = readdirSync(TRACES).filter((f) => f.endsWith('.trace')).sort();

/** The scenario's steps as the demo's Session gives them in Node, straight from `createVm`. */
function nodeSteps(arch: string): Step[] {
  const steps: Step[] = [];
  runScenario(new Session({ arch: ARCHES[arch] }, (s) => steps.push(s)));
  return steps;
}

/** What the live vm says now, to compare with a step's record. */
function liveState(run: Run) {
  const vm = run.session.vm;
  return { free: vm.meminfo().page.free, pids: vm.processes().map((p) => p.pid), pageMap: JSON.stringify(vm.pageMap()) };
}

describe.each(ARCH_NAMES)('the scenario on %s', (arch) => {
  it('records at every step the free frames and maps the demo gets in Node, and ends where the demo ends', () => {
    const want = nodeSteps(arch);
    const run = new Run({ arch, workload: { kind: 'scenario' } });
    run.toEnd();
    expect(run.ended).toBe(true);
    expect(run.failure).toBeNull();
    expect(run.records.map((r) => r.step.meminfo.page.free)).toEqual(want.map((s) => s.meminfo.page.free));
    expect(run.records.map((r) => r.step.mapsText)).toEqual(want.map((s) => s.mapsText));
    expect(run.records.map((r) => r.step.text)).toEqual(want.map((s) => s.text));
    expect(run.records.map((r) => r.index)).toEqual(want.map((_, i) => i + 1));
  });

  it('steps back exactly: the live vm is in the state of the step shown, and going forward again repeats every step', () => {
    const run = new Run({ arch, workload: { kind: 'scenario' } });
    const states = [liveState(run)];
    while (run.forward()) states.push(liveState(run));
    const first = run.records.map((r) => JSON.stringify({ ...r.step, events: r.step.events }));
    for (let n = run.records.length - 1; n >= 1; n--) {
      expect(run.back()).toBe(true);
      expect(run.position).toBe(n);
      expect(liveState(run)).toEqual(states[n - 1]);
      run.session.vm.check();
    }
    expect(run.back()).toBe(false);
    while (run.forward()) expect(liveState(run)).toEqual(states[run.position - 1]);
    expect(run.records.map((r) => JSON.stringify({ ...r.step, events: r.step.events }))).toEqual(first);
  });
});

describe.each(ARCH_NAMES.filter((a) => ARCHES[a].capabilities.hasMmu))('inspection through the library on %s', (arch) => {
  it('after the copy-on-write step, the copy is mapped by the writer alone and the original by its parent', () => {
    const run = new Run({ arch, workload: { kind: 'scenario' } });
    while (run.current.step.step !== 'cow') expect(run.forward()).toBe(true);
    const cow = run.current.step.events.find((e) => e.type === 'cow');
    if (cow?.type !== 'cow') throw new Error('the cow step has no cow event');
    const vm = run.session.vm;
    const copy = frameDetails(vm, run.session.recorder.owners, cow.pa);
    expect(copy.mappings.map((m) => m.pid)).toEqual([cow.pid]);
    expect(copy.mappings[0].va).toBe(cow.va);
    expect(copy.mappings[0].pte).toMatch(/^U R W/);
    const ad = ARCHES[arch].capabilities.accessedDirty === true;
    expect(copy.block).toMatchObject({ owner: 'APP', free: false, order: 0 });
    expect(copy.takenBy).toMatchObject({ pid: cow.pid, object: '[anon]' });
    // The highlight covers the copy, and an arrow can be drawn between two cells.
    expect(run.changedCells().has(run.cellOf(cow.pa))).toBe(true);
    expect(run.cellOf(cow.from)).toBeGreaterThanOrEqual(0);
    // The leaf table holding the copy lists it, with A and D set by the write.
    const nodes = tableTree(vm, cow.pid);
    const leafIndex = nodes.findIndex((_, i) => tableEntries(vm, cow.pid, nodes, i).some((e) => e.pa === cow.pa));
    expect(leafIndex).toBeGreaterThanOrEqual(0);
    const entry = tableEntries(vm, cow.pid, nodes, leafIndex).find((e) => e.pa === cow.pa)!;
    expect(entry).toMatchObject({ va: cow.va, size: 4096 });
    // With A/D bits the write set both; ARMv7-A short descriptors have none.
    expect(entry.flags).toMatch(ad ? /A D$/ : /- -$/);
    // Every leaf of the space is listed under exactly one of its tables.
    const listed = nodes.flatMap((_, i) => tableEntries(vm, cow.pid, nodes, i).filter((e) => e.flags !== null));
    expect(listed.length).toBe(new Set(listed.map((e) => e.pte)).size);
    expect(listed.length).toBe((vm.pmap(cow.pid) as MmuPmap).leaves().length);
    // Every table but the root hangs off the table above it.
    for (const n of nodes) expect(n.parent === -1).toBe(n.table.level === 0);
  });
});

describe.each(traceFiles)('the sample trace %s', (file) => {
  const text = readFileSync(join(TRACES, file), 'utf8');
  it.each(ARCH_NAMES)('replays to its end on %s and steps back to any line exactly', (arch) => {
    const run = new Run({ arch, workload: { kind: 'trace', file, text } });
    const states = [liveState(run)];
    while (run.forward()) states.push(liveState(run));
    expect(run.failure).toBeNull();
    expect(run.current.step.step).toBe('end');
    const n = run.records.length;
    for (const k of [Math.ceil(n / 2), 2, 1, n - 1]) {
      run.goTo(k);
      expect(run.position).toBe(k);
      expect(liveState(run)).toEqual(states[k - 1]);
    }
  });
});

describe('a trace with errors', () => {
  it('is refused whole before anything runs, every bad line named with its number', () => {
    const text = 'spawn a\nmmap a heap 2p rw private\nwrite a heap 0 nonsense\nfrobnicate\nexit a\n';
    let caught: unknown;
    try {
      new Run({ arch: 'sv39', workload: { kind: 'trace', file: 'bad.trace', text } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TraceErrors);
    expect((caught as TraceErrors).errors.map((e) => e.line)).toEqual([3, 4]);
    expect((caught as TraceErrors).errors[0].message).toMatch(/^bad\.trace:3: /);
  });

  it('that only shows when it runs stops the run at that line, with the reason', () => {
    const text = 'spawn a\nmmap a heap 1p r private\nwrite a heap 0 "x"\nexit a\n';
    const run = new Run({ arch: 'sv39', workload: { kind: 'trace', file: 'deny.trace', text } });
    run.toEnd();
    expect(run.ended).toBe(true);
    expect(run.failure?.message).toMatch(/deny\.trace:3: .*EACCES/);
    expect(run.records.length).toBe(3);
  });
});
