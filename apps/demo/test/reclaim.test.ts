import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { narrate } from '../src/narrate.js';

const BELADY = fileURLToPath(new URL('../traces/belady.trace', import.meta.url));
const SHELL = fileURLToPath(new URL('../traces/shell.trace', import.meta.url));

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out: out.join('\n'), err: err.join('\n'), lines: out };
}

describe('--compare-policies', () => {
  it.each(['sv39', 'ia32'])("belady.trace on %s: FIFO's anomaly (9 faults with 3 frames, 10 with 4), OPT 7 and 6", (arch) => {
    const r = run('--arch', arch, '--trace', BELADY, '--compare-policies', '--frames', '3,4');
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    expect(r.lines.slice(1)).toEqual([
      'policy  3 frames  4 frames',
      'fifo       9 (6)    10 (6)',
      'clock      9 (6)    10 (6)',
      'lru       10 (7)    10 (6)',
      'opt        7 (4)     6 (2)',
      "Belady's anomaly: fifo faults 10 times with 4 frames, 9 with 3: more memory, more faults.",
      "Belady's anomaly: clock faults 10 times with 4 frames, 9 with 3: more memory, more faults.",
    ]);
    expect(r.lines[0]).toMatch(/^Page faults \(evictions\) replaying .*belady\.trace on (sv39|ia32) \(.*\), 64 swap slots, by policy and resident frames:$/);
  });

  it('tries 3, 4 and 5 frames by default (5 frames hold the whole string: 5 faults, no eviction)', () => {
    const r = run('--trace', BELADY, '--compare-policies');
    expect(r.status).toBe(0);
    expect(r.lines[1]).toBe('policy  3 frames  4 frames  5 frames');
    for (const l of r.lines.slice(2, 6)) expect(l).toMatch(/ 5 \(0\)$/);
  });

  it('--json: a header, then one compare record with every (policy, frames) result', () => {
    const r = run('--json', '--trace', BELADY, '--compare-policies', '--frames', '3,4', '--swap', '32');
    expect(r.status).toBe(0);
    expect(r.lines).toHaveLength(2);
    expect(JSON.parse(r.lines[0])).toMatchObject({ type: 'header', arch: 'sv39' });
    const c = JSON.parse(r.lines[1]);
    expect(c).toMatchObject({ type: 'compare', file: BELADY, swap: 32, frames: [3, 4], policies: ['fifo', 'clock', 'lru', 'opt'] });
    expect(c.results).toHaveLength(8);
    expect(c.results[0]).toEqual({ policy: 'fifo', frames: 3, faults: 9, evictions: 6, swapOuts: 6, swapIns: 4 });
    expect(c.results.map((x: { faults: number }) => x.faults)).toEqual([9, 10, 9, 10, 10, 10, 7, 6]);
  });

  it('thrash.trace: a loop over more pages than frames, then a hot page between cold ones (CLOCK and LRU keep it)', () => {
    const r = run('--trace', fileURLToPath(new URL('../traces/thrash.trace', import.meta.url)), '--compare-policies');
    expect(r.status).toBe(0);
    expect(r.lines.slice(1)).toEqual([
      'policy  3 frames  4 frames  5 frames',
      'fifo     35 (32)   34 (30)   33 (28)',
      'clock    32 (29)   31 (27)   31 (26)',
      'lru      31 (28)   31 (27)   31 (26)',
      'opt      23 (20)   20 (16)   17 (12)',
    ]);
  });

  it('a replay that fails under one policy and limit: status 1, the policy, frames and line named', () => {
    const r = run('--trace', SHELL, '--compare-policies', '--frames', '1');
    expect(r.status).toBe(1);
    expect(r.out).toBe('');
    // Copy-on-write needs the page it copies from and the copy resident at once: one frame is not enough.
    expect(r.err).toMatch(/^vmlayers: with --policy fifo --frames 1: .*shell\.trace:\d+: write c0 heap 0 "child ls": ENOMEM: /);
    const j = run('--json', '--trace', SHELL, '--compare-policies', '--frames', '1');
    expect(j.status).toBe(1);
    expect(JSON.parse(j.lines[1])).toMatchObject({ type: 'error', code: 'EREPLAY', file: SHELL, line: expect.any(Number) });
  });

  it('a trace that does not need the limit: every policy the same', () => {
    const r = run('--trace', SHELL, '--compare-policies', '--frames', '64');
    expect(r.status).toBe(0);
    const counts = r.lines.slice(2, 6).map((l) => l.replace(/^\S+\s+/, ''));
    expect(new Set(counts).size).toBe(1);
  });
});

describe('--policy, --frames, --swap', () => {
  it('--policy fifo --frames 3: the evictions and swap-ins are narrated, frames named', () => {
    const r = run('--trace', BELADY, '--policy', 'fifo', '--frames', '3');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/pid 1 writes 0x00005000: page fault in \[anon\]; frame 0x[0-9a-f]+ evicted \(its page goes to swap slot 0\); nothing was there yet, so a zeroed frame 0x[0-9a-f]+ became the page \(zero fill\)\./);
    expect(r.out).toMatch(/frame 0x[0-9a-f]+ evicted \(its page goes to swap slot 1\); pid 1's page at 0x00002000 read back from swap slot 0 into frame 0x[0-9a-f]+ \(a major fault\)\./);
    expect(r.out).toContain('Reclaim (fifo, at most 3 resident anonymous pages): 9 page faults, 6 pages evicted, 6 written to swap, 4 read back (major faults).');
  });

  it('--policy opt with a trace: the textbook 7 faults with 3 frames; the end step has the figures', () => {
    const r = run('--json', '--trace', BELADY, '--policy', 'opt', '--frames', '3');
    expect(r.status).toBe(0);
    const end = JSON.parse(r.lines.at(-1)!);
    expect(end.figures).toMatchObject({ faults: 7, evictions: 4, backToBoot: true });
    expect(end.meminfo.reclaim).toMatchObject({ policy: 'opt', limit: 3 });
    const events = r.lines.slice(1).flatMap((l) => JSON.parse(l).events as { type: string }[]);
    expect(events.filter((e) => e.type === 'evict')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'swap-in')).toHaveLength(2);
  });

  it('--capacity replays under reclaim as well (opt included): 3 resident pages and 64 slots hold 13 copies of 5 pages', () => {
    for (const policy of ['opt', 'fifo']) {
      const r = run('--json', '--trace', BELADY, '--capacity', '--policy', policy, '--frames', '3', '--ram', '1M');
      expect(r.status).toBe(0);
      expect(JSON.parse(r.lines[1])).toMatchObject({ type: 'capacity', perCopy: 1, copies: 13, processes: 14, stop: { copy: 14, code: 'ENOMEM' } });
    }
  });

  it('the scenario runs with reclaim on (--swap alone, and with a limit); the meminfo line shows swap', () => {
    const s = run('--swap', '16');
    expect(s.status).toBe(0);
    expect(s.lines.find((l) => l.startsWith('meminfo:'))).toMatch(/; swap 0 of 16 slots used, 0 anonymous pages resident \(clock\)$/);
    const r = run('--policy', 'lru', '--frames', '2');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/evicted \(its page goes to swap slot \d+\)/);
  });

  it.each([
    [['--swap', '0'], /^vmlayers: --swap 0 is not a number of swap slots \(pages: a whole number from 1 to 16777216\)$/],
    [['--swap', '1.5'], /^vmlayers: --swap 1\.5 is not a number of swap slots/],
    [['--swap', '16M'], /^vmlayers: --swap 16M is not a number of swap slots/],
    [['--policy', 'mru'], /^vmlayers: --policy mru is not a policy \(fifo, clock, lru, opt\)$/],
    [['--policy', 'opt'], /^vmlayers: --policy opt needs --trace FILE: its future is the rest of the trace$/],
    [['--frames', '0'], /^vmlayers: --frames 0 is not a number of frames \(a whole number from 1\)$/],
    [['--frames', 'three'], /^vmlayers: --frames three is not a number of frames/],
    [['--frames', '3,4'], /^vmlayers: --frames 3,4: one number of frames \(a list only with --compare-policies\)$/],
    [['--trace', BELADY, '--compare-policies', '--frames', '3,x'], /^vmlayers: --frames 3,x is not a list of numbers of frames \(3,4,5\)$/],
    [['--compare-policies'], /^vmlayers: --compare-policies needs --trace FILE$/],
    [['--trace', BELADY, '--compare-policies', '--policy', 'fifo'], /^vmlayers: give --policy or --compare-policies, not both/],
    [['--trace', BELADY, '--compare-policies', '--capacity'], /^vmlayers: give --capacity or --compare-policies, not both$/],
    [['--trace', BELADY, '--compare-policies', '--html', '/tmp/r.html'], /^vmlayers: give --compare-policies or --html, not both$/],
    [['--arch', 'armv7m', '--swap', '16'], /^vmlayers: --swap: reclaim needs an MMU, and armv7m has none \(try --arch sv39 or ia32\)$/],
    [['--arch', 'armv7m', '--policy', 'fifo', '--frames', '3'], /^vmlayers: --policy, --frames: reclaim needs an MMU, and armv7m has none/],
    [['--arch', 'armv7m', '--trace', BELADY, '--compare-policies'], /^vmlayers: --compare-policies: reclaim needs an MMU, and armv7m has none/],
  ])('%j → status 2 and a message in the flag\'s terms, before anything runs', (argv, message) => {
    const r = run(...(argv as string[]));
    expect(r.status).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('a bad value is an EUSAGE record with --json', () => {
    const r = run('--json', '--policy', 'mru');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.out)).toEqual({ type: 'error', code: 'EUSAGE', message: '--policy mru is not a policy (fifo, clock, lru, opt)' });
  });

  it('--help lists the flags', () => {
    const r = run('--help');
    for (const flag of ['--swap PAGES', '--policy NAME', '--frames N', '--compare-policies']) expect(r.out).toContain(flag);
  });
});

describe('narrate: reclaim events', () => {
  it('tells an eviction outside a fault (vm.reclaim) and a swap-in without a process', () => {
    expect(
      narrate([
        { type: 'free', pa: 0x80310000, size: 4096, object: '[anon]' },
        { type: 'evict', pa: 0x80310000, object: '[anon]' },
        { type: 'swap-out', pa: 0x80310000, slot: 7 },
        { type: 'swap-in', pa: 0x80311000, slot: 7 },
      ]),
    ).toEqual(['Frame 0x80310000 evicted (its page goes to swap slot 7).', 'A page read back from swap slot 7 into frame 0x80311000 (a major fault).']);
  });

  it('sums evictions and major faults past the faults it tells one by one', () => {
    const events = [];
    for (let k = 0; k < 6; k++) {
      const va = 0x1000 * (k + 1);
      events.push({ type: 'fault' as const, pid: 1, va, access: 2, object: '[anon]' });
      events.push({ type: 'free' as const, pa: 0x80300000 + k * 0x1000, size: 4096, object: '[anon]' });
      events.push({ type: 'evict' as const, pa: 0x80300000 + k * 0x1000, object: '[anon]' });
      events.push({ type: 'swap-out' as const, pa: 0x80300000 + k * 0x1000, slot: k + 10 });
      events.push({ type: 'alloc' as const, pid: 1, va, pa: 0x80300000 + k * 0x1000, size: 4096, object: '[anon]' });
      events.push({ type: 'swap-in' as const, pid: 1, va, pa: 0x80300000 + k * 0x1000, slot: k });
    }
    const text = narrate(events);
    expect(text).toHaveLength(5);
    expect(text[4]).toBe('… and 2 more page faults (2 read back from swap (major)); 2 frames evicted to swap to make room.');
  });
});

describe('the scenario under reclaim: a working set larger than memory', () => {
  const stepsOf = (lines: string[]) => lines.slice(1).map((l) => JSON.parse(l) as { step: string; title: string; figures: Record<string, unknown>; narration?: string[] });

  it.each(['sv39', 'ia32'])('--swap 64 --frames 3 on %s: 6 pages written and read back, frames named, exact figures', (arch) => {
    const r = run('--arch', arch, '--swap', '64', '--frames', '3');
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    const head = r.lines.findIndex((l) => /^== \d+\. a working set larger than memory$/.test(l));
    expect(head).toBeGreaterThan(0);
    const text = r.lines.slice(head, r.lines.findIndex((l, k) => k > head && l.startsWith('meminfo:'))).join('\n');
    expect(text).toContain('pid 2 maps 6 private pages at 0x00003000 (24 KiB, twice the 3 resident anonymous pages at most), writes every page, reads every page back and checks its bytes, then unmaps them.');
    expect(text).toMatch(/pid 2 writes 0x00004000: page fault in \[anon\]; frame 0x[0-9a-f]+ evicted \(its page goes to swap slot \d+\); nothing was there yet/);
    expect(text).toContain('… and 8 more page faults (2 zero fill, 6 read back from swap (major)); 8 frames evicted to swap to make room.');
    expect(text).toMatch(/Every page read back as written\. 12 frames evicted \(a frame taken again is evicted again\), the first ones: (0x[0-9a-f]+, ){5}0x[0-9a-f]+\. In all, the step made 12 evictions, 12 swap-outs and 6 swap-ins;/);
    // The exit step follows it, and everything still comes back.
    expect(r.lines[head + 1 + r.lines.slice(head + 1).findIndex((l) => l.startsWith('== '))]).toMatch(/^== \d+\. exit$/);
    const j = run('--json', '--arch', arch, '--swap', '64', '--frames', '3');
    const steps = stepsOf(j.lines);
    const ws = steps.find((s) => s.step === 'working-set')!;
    expect(ws.figures).toEqual({ pages: 6, region: 0x3000, checked: true, evictions: 12, swapOuts: 12, swapIns: 6, swapUsed: 4 });
    expect(steps.map((s) => s.step).slice(-3)).toEqual(['working-set', 'exit', 'end']);
    expect(steps.at(-1)!.figures.backToBoot).toBe(true);
    if (arch === 'sv39') {
      const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
      const sample = /`vmlayers --swap 64 --frames 3` prints[^]*?```text\n([^]*?)```/.exec(readme)![1];
      expect(r.out).toContain(sample.replace(/\n$/, ''));
    }
  });

  it('without a limit: twice the free frames when swap holds them (a small RAM), else skipped in one line', () => {
    const r = run('--json', '--ram', '256K', '--swap', '4096');
    expect(r.status).toBe(0);
    const ws = stepsOf(r.lines).find((s) => s.step === 'working-set')!;
    expect(ws.figures).toMatchObject({ pages: 78, checked: true, evictions: 122, swapOuts: 121, swapIns: 78 });
    const s = run('--swap', '16');
    expect(s.status).toBe(0);
    expect(s.out).toMatch(/== \d+\. a working set larger than memory: skipped\nA region of \d+ pages \(twice the \d+ free frames\) would not fit in swap: 16 of 16 slots free \(give --frames N, or a larger --swap\)\./);
  });

  it('without reclaim flags the scenario has no such step', () => {
    for (const arch of ['sv39', 'ia32', 'armv7m']) {
      const r = run('--json', '--arch', arch);
      expect(r.status).toBe(0);
      expect(stepsOf(r.lines).map((s) => s.step)).not.toContain('working-set');
      expect(run('--arch', arch).out).not.toContain('working set');
    }
  });
});
