import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sv39 } from '@vmlayers/pmap-mmu';
import { formatPageMap } from '@vmlayers/phys';
import { frameMapModel } from '../src/frame-map.js';
import { main } from '../src/main.js';
import { runScenario } from '../src/scenario.js';

function report(...argv: string[]): { html: string; out: string[] } {
  const path = join(mkdtempSync(join(tmpdir(), 'vmlayers-html-')), 'report.html');
  const out: string[] = [];
  const err: string[] = [];
  expect(main([...argv, '--html', path], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(0);
  expect(err).toEqual([]);
  return { html: readFileSync(path, 'utf8'), out };
}

function selfContained(html: string) {
  expect(html).not.toMatch(/https?:\/\//);
  expect(html).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import/i);
}

describe('--html', () => {
  it('writes a self-contained page with the frame map, the maps, the page-table tree and the timeline (sv39)', () => {
    const { html, out } = report();
    expect(out.at(-1)).toMatch(/^Report written to .*report\.html\.$/);
    expect(html).toMatch(/^<!doctype html>/);
    selfContained(html);
    for (const id of ['frames', 'maps', 'tables', 'timeline', 'steps']) expect(html).toContain(`<h2 id="${id}">`);
    // The frame map at the peak (after the copy-on-write), coloured by owner.
    expect(html).toContain('Physical frames on sv39 / riscv-virt-64m at step 6');
    for (const label of ['boot (reserved by the board)', 'kernel: page tables', 'pid 1: private pages', 'pid 3: private pages', 'memory objects (shared pages, page cache)']) {
      expect(html).toContain(label);
    }
    // Every process alive then, with its mappings.
    for (const pid of [1, 2, 3]) expect(html).toContain(`<h3>pid ${pid}</h3>`);
    expect(html).toContain('<td>0x00001000</td><td>0x00005000</td><td>16 KiB</td><td>rw-p</td>');
    // pid 1's Sv39 tree: a root, a level-1 and a level-2 table.
    expect(html).toContain('page-table tree of pid 1');
    for (const level of [0, 1, 2]) expect(html).toContain(`<b>level ${level}</b> table at 0x`);
    // The meminfo timeline: one point per step.
    expect(html).toContain('Memory in use since boot');
    expect((html.match(/<polyline/g) ?? []).length).toBe(3);
    expect((html.match(/<circle /g) ?? []).length).toBe(30);
    expect(html).toContain('<span class="err">EACCES</span>');
  });

  it('shows the MPU region table without an MMU, and works with --json and --trace', () => {
    const { html, out } = report('--arch', 'armv7m', '--json');
    selfContained(html);
    expect(html).toContain('its protection is the ARMv7-M MPU region table');
    expect(out.every((l) => l.startsWith('{'))).toBe(true);
    const trace = report('--trace', new URL('../traces/shell.trace', import.meta.url).pathname, '--arch', 'ia32');
    selfContained(trace.html);
    expect(trace.html).toContain('Physical frames on ia32 / ia32-pc-32m');
    expect(trace.html).toContain('⋯ no memory: 128 KiB hole from 0x000a0000');
  });

  it('reports an unwritable file with status 1', () => {
    const err: string[] = [];
    expect(main(['--html', '/nonexistent/dir/r.html'], { out: () => {}, err: (l) => err.push(l) })).toBe(1);
    expect(err[0]).toMatch(/cannot write \/nonexistent\/dir\/r\.html/);
  });
});

describe('frame map', () => {
  it('accounts for every frame, with user frames by the process that took them', () => {
    let peakEvents = 0;
    const session = runScenario({ arch: sv39 }, (s) => void (peakEvents += s.events.length));
    const peak = session.peak!;
    const model = frameMapModel(peak.pageMap, peak.owners, 4096);
    const total = peak.pageMap.reduce((n, r) => n + r.count, 0);
    expect(Object.values(model.counts).reduce((a, b) => a + b, 0)).toBe(total);
    expect(model.counts).toMatchObject({ boot: 768, 'pid:1': 2, 'pid:3': 1, shared: 2 });
    const apps = (formatPageMap(peak.pageMap, 4096).match(/(\d*)A/g) ?? []).reduce((n, t) => n + (Number(t.slice(0, -1)) || 1), 0);
    expect(model.counts['pid:1'] + model.counts['pid:3'] + model.counts.shared).toBe(apps);
    expect(peakEvents).toBeGreaterThan(0);
  });

  it('is committed as docs/frame-map.svg, a standalone image', () => {
    const svg = readFileSync(new URL('../../../docs/frame-map.svg', import.meta.url), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
    expect(svg).toContain('Physical frames on sv39 / riscv-virt-64m');
    expect(svg).toContain('pid 3: private pages');
  });
});
