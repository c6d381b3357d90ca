import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Vm } from '@vmlayers/memobj';
import { ARCHES } from '../src/arches.js';
import { main } from '../src/main.js';
import { StatusLine, ttyProgress } from '../src/progress.js';
import { replayTrace } from '../src/replay.js';
import { Session } from '../src/session.js';
import type { Step } from '../src/step.js';
import { parseTrace } from '../src/trace.js';

const dir = new URL('../traces/', import.meta.url);
const traces = readdirSync(dir).filter((f) => f.endsWith('.trace'));

describe('sample traces', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are at least the scenario, a shell-like fork-heavy workload and an out-of-memory workload', () => {
    expect(traces).toEqual(expect.arrayContaining(['scenario.trace', 'shell.trace', 'oom.trace']));
  });

  describe.each(traces)('%s', (name) => {
    const trace = parseTrace(readFileSync(new URL(name, dir), 'utf8'), name);

    it.each(Object.keys(ARCHES))('replays on %s with vm.check() after every line, and every frame comes back', (arch) => {
      const check = vi.spyOn(Vm.prototype, 'check');
      const steps: Step[] = [];
      replayTrace(trace, new Session({ arch: ARCHES[arch] }, (s) => steps.push(s)));
      // The boot step, one step per operation, the summary: each ran vm.check() first.
      expect(steps).toHaveLength(trace.ops.length + 2);
      expect(check).toHaveBeenCalledTimes(trace.ops.length + 2);
      const end = steps[steps.length - 1];
      expect(end.figures).toMatchObject({ lines: trace.ops.length, live: 0, backToBoot: true });
      expect(end.meminfo).toEqual(steps[0].meminfo);
      expect(end.pageMap).toBe(steps[0].pageMap);
    });
  });

  it('scenario.trace: copy-on-write with an MMU, fork refused and the child skipped without one', () => {
    const trace = parseTrace(readFileSync(new URL('scenario.trace', dir), 'utf8'), 'scenario.trace');
    const on = (arch: string) => {
      const steps: Step[] = [];
      replayTrace(trace, new Session({ arch: ARCHES[arch] }, (s) => steps.push(s)));
      return steps;
    };
    const sv39 = on('sv39');
    const cow = sv39.flatMap((s) => s.events).filter((e) => e.type === 'cow');
    expect(cow).toHaveLength(1);
    expect(sv39.at(-1)!.figures).toMatchObject({ expected: 2, skipped: 0 });
    const armv7m = on('armv7m');
    expect(armv7m.find((s) => s.title.endsWith('fork a c'))!.error?.code).toBe('ENOSYS');
    expect(armv7m.at(-1)!.figures).toMatchObject({ expected: 3, skipped: 6 });
    expect(armv7m.flatMap((s) => s.events).filter((e) => e.type === 'cow')).toHaveLength(0);
  });

  it('oom.trace: ENOMEM on every architecture, and nothing lost', () => {
    const trace = parseTrace(readFileSync(new URL('oom.trace', dir), 'utf8'), 'oom.trace');
    for (const arch of Object.keys(ARCHES)) {
      const steps: Step[] = [];
      replayTrace(trace, new Session({ arch: ARCHES[arch] }, (s) => steps.push(s)));
      expect(steps.filter((s) => s.error?.code === 'ENOMEM')).toHaveLength(1);
      // Everything read back after ENOMEM was checked by the trace itself; these are its reads.
      expect(steps.filter((s) => s.figures.read === 'precious data')).toHaveLength(2);
    }
  });

  it('shell.trace: many forks and copies with an MMU', () => {
    const trace = parseTrace(readFileSync(new URL('shell.trace', dir), 'utf8'), 'shell.trace');
    const steps: Step[] = [];
    replayTrace(trace, new Session({ arch: ARCHES.ia32 }, (s) => steps.push(s)));
    const events = steps.flatMap((s) => s.events);
    expect(events.filter((e) => e.type === 'fork').length).toBeGreaterThanOrEqual(16);
    expect(events.filter((e) => e.type === 'cow').length).toBeGreaterThanOrEqual(16);
  });

  it('prints a trace replay in prose and in JSON', () => {
    const out: string[] = [];
    expect(main(['--trace', new URL('scenario.trace', dir).pathname, '--arch', 'armv7m'], { out: (l) => out.push(l), err: () => {} })).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/fork a c\n\s+failed as expected: ENOSYS: fork of process 1: no MMU\./);
    expect(text).toMatch(/write c heap 0 "child!"\n\s+skipped: process c does not exist/);
    expect(text).toContain('Every process exited: meminfo is back at its boot figures.');
    const json: string[] = [];
    expect(main(['--trace', new URL('scenario.trace', dir).pathname, '--json'], { out: (l) => json.push(l), err: () => {} })).toBe(0);
    const [header, ...steps] = json.map((l) => JSON.parse(l));
    expect(header).toMatchObject({ type: 'header', arch: 'sv39' });
    expect(steps[0].step).toBe('boot');
    expect(steps.at(-1)).toMatchObject({ step: 'end', figures: { backToBoot: true } });
  });
});

describe('progress on a terminal', () => {
  it('redraws at most every interval, only for long replays, and erases itself at the end', () => {
    const written: string[] = [];
    let t = 0;
    const p = ttyProgress(new StatusLine({ write: (s: string) => written.push(s) }), 'x.trace', 100, () => t);
    p(1, 50);
    expect(written).toEqual([]);
    p(1, 200);
    t = 50;
    p(2, 200);
    t = 150;
    p(30, 200);
    p(200, 200);
    expect(written).toEqual(['\r\x1b[Kreplaying x.trace: 1/200 lines (0 %)', '\r\x1b[Kreplaying x.trace: 30/200 lines (15 %)', '\r\x1b[K']);
  });

  it('is erased before other text and drawn again after it', () => {
    const written: string[] = [];
    const line = new StatusLine({ write: (s: string) => written.push(s) });
    line.around(() => written.push('narration\n'));
    expect(written).toEqual(['narration\n']);
    line.show('replaying: 1/2');
    line.around(() => written.push('narration\n'));
    line.clear();
    line.clear();
    expect(written).toEqual(['narration\n', '\r\x1b[Kreplaying: 1/2', '\r\x1b[K', 'narration\n', 'replaying: 1/2', '\r\x1b[K']);
  });

  it('is asked for only through Io.progress, which the CLI gives only when stderr is a TTY', () => {
    const labels: string[] = [];
    const calls: number[] = [];
    const r = main(['--trace', new URL('shell.trace', dir).pathname, '--arch', 'armv7m'], {
      out: () => {},
      err: () => {},
      progress: (label) => (labels.push(label), (done) => void calls.push(done)),
    });
    expect(r).toBe(0);
    expect(labels).toHaveLength(1);
    expect(calls.at(-1)).toBe(calls.length);
    expect(readFileSync(new URL('../src/cli.ts', import.meta.url), 'utf8')).toContain('process.stderr.isTTY ? new StatusLine(');
  });
});
