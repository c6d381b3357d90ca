import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Access, Prot } from '@vmlayers/phys';
import { ARCHES } from '../src/arches.js';
import { main } from '../src/main.js';

interface JsonStep {
  index: number;
  step: string;
  title: string;
  text: string[];
  figures: Record<string, unknown>;
  error?: { code: string; message: string };
  events: { type: string; pid?: number; va?: number; pa?: number; from?: number; size?: number }[];
  meminfo: { page: { total: number; free: number; alloc: number; boot: number }; map: { entries: number; free: number }; kmalloc: { used: number; free: number } };
  pageMap: string;
  maps: Record<string, { start: number; end: number; prot: number; flags: number; object: string }[]>;
}

function scenario(...argv: string[]): JsonStep[] {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(['--json', ...argv], { out: (l) => out.push(l), err: (l) => err.push(l) });
  expect(err).toEqual([]);
  expect(status).toBe(0);
  const [header, ...steps] = out.map((l) => JSON.parse(l) as JsonStep & { type: string });
  expect(header.type).toBe('header');
  expect(steps.every((s) => s.type === 'step')).toBe(true);
  return steps;
}

const by = (steps: JsonStep[], id: string) => steps.find((s) => s.step === id)!;
const count = (s: JsonStep, type: string) => s.events.filter((e) => e.type === type).length;

describe.each(['sv39', 'ia32'])('the scenario on %s (MMU)', (name) => {
  const ps = ARCHES[name].pageSize;
  const steps = scenario('--arch', name);

  it('runs every step in order', () => {
    expect(steps.map((s) => s.step)).toEqual(['boot', 'spawn', 'anon', 'image', 'fork', 'cow', 'share', 'protect', 'exit', 'end']);
    expect(steps.map((s) => s.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('boots with the board map, the page map and meminfo', () => {
    const boot = by(steps, 'boot');
    expect(boot.figures).toMatchObject({ arch: name, pageSize: 4096, hasMmu: true });
    expect(boot.text[0]).toContain(`architecture ${name}`);
    expect(boot.pageMap).toMatch(/^vm: /);
    expect(boot.meminfo.page.alloc - boot.meminfo.page.boot).toBe((boot.figures.kernelFrames as number) * ps);
    expect(boot.events).toEqual([]);
  });

  it('spawns two processes that cost one root table each and no memory', () => {
    const s = by(steps, 'spawn');
    expect(s.figures).toMatchObject({ pids: '1,2', framesTaken: 2 });
    expect(s.events).toEqual([{ type: 'spawn', pid: 1 }, { type: 'spawn', pid: 2 }]);
    expect(s.maps).toEqual({ 1: [], 2: [] });
  });

  it('takes a frame per page touched, on the fault, not at mmap', () => {
    const s = by(steps, 'anon');
    expect(s.figures).toMatchObject({ userAllocsAtMmap: 0, userAllocsAtTouch: 3 });
    expect(count(s, 'zero-fill')).toBe(2);
    expect(count(s, 'fault')).toBe(3);
    // Two private pages and the shared page's frame, the rest page tables.
    expect(count(s, 'alloc')).toBe(3);
    expect(s.maps[1].map((m) => [m.end - m.start, m.object])).toEqual([
      [4 * ps, '[anon]'],
      [ps, '[shared anon]'],
    ]);
    expect(s.text.filter((t) => t.includes('zero fill'))).toHaveLength(2);
  });

  it('maps the image read-only in both processes with one frame for the page both read', () => {
    const s = by(steps, 'image');
    expect(s.figures).toMatchObject({ readA: 'main', readB: 'main' });
    expect(count(s, 'fault')).toBe(2);
    expect(s.events.filter((e) => e.type === 'alloc')).toHaveLength(1);
    for (const pid of ['1', '2']) {
      const text = s.maps[pid].find((m) => m.object === '[bytes]')!;
      expect(text.prot & (Prot.READ | Prot.WRITE | Prot.EXEC)).toBe(Prot.READ | Prot.EXEC);
      expect(text.end - text.start).toBe(2 * ps);
    }
    expect(s.text.join('\n')).toContain('the page was already in memory');
  });

  it('forks without copying a page', () => {
    const s = by(steps, 'fork');
    expect(s.figures).toMatchObject({ child: 3, parent: 1, mappings: 3, entriesTaken: 3 });
    // Only the child's page-table root: no page and no other table is copied.
    expect(s.figures.framesTaken).toBe(1);
    expect(count(s, 'alloc')).toBe(0);
    expect(s.meminfo.page.free).toBe(by(steps, 'image').meminfo.page.free - (s.figures.framesTaken as number) * ps);
    expect(s.events).toEqual([{ type: 'fork', pid: 3, parent: 1 }]);
    expect(s.maps[3]).toEqual(s.maps[1]);
    const before = by(steps, 'image').meminfo;
    expect(s.meminfo.page.free).toBeLessThan(before.page.free); // the child's page tables
  });

  it('copies exactly the written page on the child’s write and says which frame', () => {
    const s = by(steps, 'cow');
    expect(s.figures).toMatchObject({ copies: 1, parentReads: 'parent heap', childReads: 'child! heap' });
    const cow = s.events.find((e) => e.type === 'cow')!;
    expect(cow).toMatchObject({ pid: 3, va: 0x1000 });
    expect(s.figures.copiedFrom).toBe(cow.from);
    expect(s.figures.copiedTo).toBe(cow.pa);
    // The frame copied is the one the parent's first touch zero-filled.
    const zeroFilled = by(steps, 'anon').events.find((e) => e.type === 'zero-fill' && e.va === 0x1000)!;
    expect(cow.from).toBe(zeroFilled.pa);
    expect(s.text.join('\n')).toContain(`frame 0x${cow.from!.toString(16).padStart(8, '0')} was copied into a new frame 0x${cow.pa!.toString(16).padStart(8, '0')}`);
  });

  it('shares the shared page after fork without a copy', () => {
    const s = by(steps, 'share');
    expect(s.figures).toMatchObject({ writer: 3, reader: 1, reads: 'written by pid 3' });
    expect(count(s, 'cow')).toBe(0);
    expect(count(s, 'alloc')).toBe(0);
  });

  it('reports the protection fault after mprotect and changes nothing', () => {
    const s = by(steps, 'protect');
    expect(s.figures).toMatchObject({ errno: 'EACCES', stillReads: 'parent heap', heapEntries: 2 });
    expect(s.error?.code).toBe('EACCES');
    // The refusal is narrated from its event: no memory object was asked, nothing else happened.
    expect(s.events).toEqual([{ type: 'fault', pid: 1, va: 0x1000, access: Access.WRITE | Access.USER, result: 'EACCES' }]);
    expect(s.text.some((l) => l.includes('refused with EACCES'))).toBe(true);
    expect(s.maps[1][0]).toMatchObject({ start: 0x1000, end: 0x1000 + ps });
    expect(s.maps[1][0].prot & Prot.WRITE).toBe(0);
  });

  it('gives every frame back on exit, and meminfo is back at its boot figures', () => {
    const exit = by(steps, 'exit');
    expect(count(exit, 'exit')).toBe(3);
    // The frames the narration says came back are the meminfo delta.
    const framesBack = (exit.meminfo.page.free - by(steps, 'protect').meminfo.page.free) / ps;
    expect(exit.figures.framesBack).toBe(framesBack);
    expect(exit.text.at(-1)).toContain(`gave back ${framesBack} frames: `);
    // Every user frame taken is given back: allocs of the whole run = frees at exit.
    const allocs = steps.reduce((n, s) => n + count(s, 'alloc'), 0);
    expect(count(exit, 'free')).toBe(allocs);
    const end = by(steps, 'end');
    const boot = by(steps, 'boot');
    expect(end.figures.backToBoot).toBe(true);
    expect(end.meminfo).toEqual(boot.meminfo);
    expect(end.pageMap).toBe(boot.pageMap);
    expect(end.maps).toEqual({});
  });
});

describe('the scenario on armv7m (no MMU)', () => {
  const steps = scenario('--arch', 'armv7m');
  const ps = 512;

  it('refuses fork with ENOSYS and shares through a common object instead', () => {
    expect(steps.map((s) => s.step)).toEqual(['boot', 'spawn', 'anon', 'image', 'fork', 'share', 'protect', 'exit', 'end']);
    const fork = by(steps, 'fork');
    expect(fork.error?.code).toBe('ENOSYS');
    expect(fork.figures.errno).toBe('ENOSYS');
    expect(fork.events).toEqual([]);
    const share = by(steps, 'share');
    expect(share.figures).toMatchObject({ writer: 2, reader: 1, reads: 'written by pid 2', sameAddress: true });
  });

  it('populates a mapping at mmap, one block, va = pa', () => {
    const boot = by(steps, 'boot');
    expect(boot.figures).toMatchObject({ arch: 'armv7m', board: 'stm32-512k', pageSize: 512, hasMmu: false });
    const s = by(steps, 'anon');
    expect(s.figures).toMatchObject({ userAllocsAtMmap: 2, userAllocsAtTouch: 0, framesAtTouch: 0 });
    expect(count(s, 'fault')).toBe(0);
    const blocks = s.events.filter((e) => e.type === 'alloc');
    expect(blocks.map((e) => e.size)).toEqual([4 * ps, ps]);
    expect(blocks[0].pa).toBe(s.figures.heap);
  });

  it('maps the image once for both processes', () => {
    const s = by(steps, 'image');
    expect(s.figures).toMatchObject({ sameAddress: true, readA: 'main', readB: 'main' });
    expect(count(s, 'alloc')).toBe(1);
  });

  it('reports the protection fault and ends at the boot figures', () => {
    expect(by(steps, 'protect').figures).toMatchObject({ errno: 'EACCES', stillReads: 'parent heap', heapEntries: 2 });
    const end = by(steps, 'end');
    expect(end.figures.backToBoot).toBe(true);
    expect(end.meminfo).toEqual(by(steps, 'boot').meminfo);
    expect(end.pageMap).toBe(by(steps, 'boot').pageMap);
  });
});

describe('the scenario in prose', () => {
  it('prints maps and the page map only where they changed', () => {
    const out: string[] = [];
    expect(main([], { out: (l) => out.push(l), err: () => {} })).toBe(0);
    const text = out.join('\n');
    const sections = text.split(/\n(?=== )/);
    expect(sections).toHaveLength(10);
    expect(sections[0]).toMatch(/^== 1\. boot sv39 on riscv-virt-64m/);
    expect(sections[0]).toContain('meminfo: 15604 of 15616 RAM frames free (4 KiB each), 12 allocated; 768 more reserved by the board (opensbi 2 MiB, kernel 1 MiB)');
    // /proc/meminfo in full at the first and the last step.
    expect(sections[0]).toContain('/proc/meminfo:\nMemTotal:          65536 kB\n');
    expect(sections[9]).toContain('/proc/meminfo:\nMemTotal:          65536 kB\n');
    expect(sections[3]).not.toContain('/proc/meminfo');
    // Sharing changes no map and no frame.
    expect(sections[6]).not.toContain('/maps');
    expect(sections[6]).not.toContain('vm: ');
    // The maps are memobj's formatMaps lines, Linux's /proc/<pid>/maps columns.
    expect(sections[7]).toContain(
      '/proc/1/maps:\n' +
        '00001000-00002000 r--p 00000000 00:00 0                                  [anon]\n' +
        '00002000-00005000 rw-p 00001000 00:00 0                                  [anon]\n',
    );
    expect(sections[9]).toContain('everything came back');
    expect(readFileSync(new URL('../src/format.ts', import.meta.url), 'utf8')).not.toMatch(/mapLine|protString/);
  });

  it.each(['sv39', 'ia32', 'armv7m'])('explains every page-map marker it prints, on %s (holes as their size)', (arch) => {
    const out: string[] = [];
    expect(main(['--arch', arch], { out: (l) => out.push(l), err: () => {} })).toBe(0);
    const maps = out.filter((l) => l.startsWith('vm: ')).map((l) => l.slice(4));
    const shown = new Set<string>();
    for (const m of maps) {
      for (const t of m.matchAll(/\(([\d.]+ [KMG]?i?B) hole\)|\[\d+(.)\]|(.)/g)) shown.add(t[1] !== undefined ? 'hole' : (t[2] ?? t[3]));
    }
    expect(shown.has('x')).toBe(false);
    expect(shown).toContain('A');
    const legend = out.filter((l) => /^  (\S|\(… hole\)) +\S/.test(l));
    for (const marker of shown) {
      const key = marker === 'hole' ? '(… hole)' : marker;
      expect(legend.some((l) => l.startsWith(`  ${key} `)), `legend for ${marker}`).toBe(true);
    }
    if (arch !== 'sv39') expect(shown).toContain('hole');
  });

  it('counts flash apart from SRAM on armv7m, and prints the hole between them as its size', () => {
    const out: string[] = [];
    expect(main(['--arch', 'armv7m'], { out: (l) => out.push(l), err: () => {} })).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('meminfo: 1022 of 1024 RAM frames free (512 B each), 2 allocated; 2048 more reserved by the board (flash 1 MiB)');
    expect(text).toContain('vm: [2048B](383 MiB hole)[2H][1022.]');
  });

  it.each(['sv39', 'ia32', 'armv7m'])('tells frame counts that add up to the meminfo delta, kernel heap taken at mmap included (%s)', (arch) => {
    const steps = scenario('--arch', arch);
    const spawn = by(steps, 'spawn');
    const anon = by(steps, 'anon');
    const ps = ARCHES[arch].pageSize;
    const delta = (spawn.meminfo.page.free - anon.meminfo.page.free) / ps;
    expect((anon.figures.framesAtMmap as number) + (anon.figures.framesAtTouch as number)).toBe(delta);
    const why = anon.text.at(-1)!;
    // Every "N … (X)" the sentence tells adds up to the same figure.
    const told = [...why.matchAll(/(\d+) [a-z -]+? \(([APHK])\)/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(told).toBe(delta);
    if (ARCHES[arch].capabilities.hasMmu) {
      expect(why).toContain(`${delta} frames in all`);
      expect(anon.figures.framesAtMmap).toBeGreaterThan(0); // kernel heap for the shared object
    }
  });

  it('prints what the README shows', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const sample = /## What it prints\n[^]*?```text\n([^]*?)```/.exec(readme)![1];
    const out: string[] = [];
    expect(main([], { out: (l) => out.push(l), err: () => {} })).toBe(0);
    expect(sample.split('\n').length).toBeGreaterThan(20);
    expect(`${out.join('\n')}\n`).toContain(sample);
  });

  it('runs on a RAM size and a board', () => {
    expect(main(['--ram', '16M'], { out: () => {}, err: () => {} })).toBe(0);
    expect(main(['--arch', 'sv39', '--board', 'riscv-virt-4g', '--json'], { out: () => {}, err: () => {} })).toBe(0);
  });
});
