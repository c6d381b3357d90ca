import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sv39 } from '@vmlayers/pmap-mmu';
import { formatPageMap } from '@vmlayers/phys';
import { frameMapModel } from '../src/frame-map.js';
import { main } from '../src/main.js';
import { runScenario } from '../src/scenario.js';
import { Session } from '../src/session.js';

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
    // The maps as formatMaps prints them.
    expect(html).toContain('<pre>00001000-00005000 rw-p 00000000 00:00 0                                  [anon]\n');
    // pid 1's Sv39 tree named as the RISC-V spec names its levels: the root is level 2, the leaf level 0.
    expect(html).toContain('page-table tree of pid 1');
    const levels = [...html.matchAll(/<li style="margin-left:([\d.]+)em"><b>([^<]+)<\/b> table at 0x/g)].map((m) => [Number(m[1]), m[2]]);
    expect(levels).toEqual([
      [0, 'level 2'],
      [1.5, 'level 1'],
      [3, 'level 0'],
    ]);
    // The meminfo timeline: one point per step; the kernel chart's two series on their own titled axes.
    expect(html).toContain('Memory in use since boot');
    expect((html.match(/<polyline/g) ?? []).length).toBe(3);
    expect((html.match(/<circle /g) ?? []).length).toBe(30);
    const kernel = html.slice(html.indexOf('aria-label="Kernel heap and map entries"'));
    expect(kernel.match(/class="axis-title">([^<]+)</g)).toEqual(['class="axis-title">kmalloc bytes in use<', 'class="axis-title">map entries in use<']);
    expect(kernel).toContain('map entries in use (right axis)');
    expect(html).toContain('<span class="err">EACCES</span>');
    // Phones: the viewport; the board's memory map as preformatted text.
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toMatch(/<h2 id="board">Board memory map<\/h2>\n<pre>0x002000000-0x002010000  device   clint \(64 KiB\)\n/);
    expect(html).toContain('<th>/proc/meminfo at boot</th>');
    // Present entries from the real PTEs: pid 1's heap pages write-protected for copy-on-write (A and D set by its
    // writes), its shared page writable, the image page executable and never written.
    const entries = html.slice(html.indexOf('<h2 id="entries">'), html.indexOf('<h2 id="timeline">'));
    expect(entries).toContain('<h3>pid 1: 4 present entries</h3>');
    const row = (va: string) => new RegExp(`<tr><td>${va}</td><td>0x[0-9a-f]{8}</td><td>([^<]+)</td><td>0x[0-9a-f]{8}</td></tr>`).exec(entries)?.[1];
    expect([row('0x00001000'), row('0x00005000'), row('0x00006000')]).toEqual(['U R - - - A D', 'U R W - - A D', 'U R - X - A -']);
  });

  it('names ia32 levels page directory and page table', () => {
    const { html } = report('--arch', 'ia32');
    expect([...html.matchAll(/<b>([^<]+)<\/b> table at 0x/g)].map((m) => m[1])).toEqual(['page directory', 'page table']);
  });

  it('shows the MPU regions of a process on armv7m: slot, base, size, AP, XN, SRD', () => {
    const { html } = report('--arch', 'armv7m');
    expect(html).toContain('<h2 id="tables">MPU regions</h2>');
    expect(html).toContain('<tr><th>slot</th><th>base</th><th>size</th><th>AP</th><th>XN</th><th>SRD</th><th>bytes covered</th></tr>');
    const rows = [...html.matchAll(/<tr><td>(\d+)<\/td><td>(0x[0-9a-f]{8})<\/td><td>([^<]+)<\/td><td>(0b[01]{3}) \(([^)]+)\)<\/td><td>([^<]+)<\/td><td>(0x[0-9a-f]{2})<\/td>/g)];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r[5]).toMatch(/^priv r[wo], user (rw|ro|none)$/);
  });

  it('puts the names a trace gives processes beside their pids', () => {
    const { html } = report('--trace', new URL('../traces/scenario.trace', import.meta.url).pathname);
    expect(html).toMatch(/<h3>pid 1 \([A-Za-z_][\w.-]*\)<\/h3>/);
    expect(html).toMatch(/pid 1 \([A-Za-z_][\w.-]*\): private pages/);
  });

  it('has no page-table entries section without an MMU', () => {
    expect(report('--arch', 'armv7m').html).not.toContain('<h2 id="entries">');
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

  it('shows swap used/total and the reclaim counters when reclaim is on, and no such section without it', () => {
    const { html } = report('--swap', '64', '--frames', '3');
    selfContained(html);
    expect(html).toContain('<h2 id="reclaim">Reclaim and swap</h2>');
    expect(html).toContain('Policy <b>clock</b>, at most <b>3</b> resident anonymous pages; swap slots used at the end: <b>0 of 64</b>.');
    expect(html).toMatch(/In all, <b>\d+<\/b> evictions, <b>\d+<\/b> swap-outs and <b>\d+<\/b> swap-ins \(major faults\)\./);
    // The working-set step: 4 slots still used after it, 12 evictions, 12 swap-outs and 6 swap-ins more than the step before.
    const rows = [...html.matchAll(/<tr><td>(\d+)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td><\/tr>/g)];
    const k = rows.findIndex((m) => m[2] === 'a working set larger than memory');
    expect(k).toBeGreaterThan(0);
    expect(rows[k][3]).toBe('4 of 64');
    expect([5, 6, 7].map((i) => Number(rows[k][i]) - Number(rows[k - 1][i]))).toEqual([12, 12, 6]);
    expect(report().html).not.toContain('id="reclaim"');
  });

  it('refuses a file it cannot write with status 2, before the run', () => {
    const err: string[] = [];
    const out: string[] = [];
    expect(main(['--html', '/nonexistent/dir/r.html'], { out: (l) => out.push(l), err: (l) => err.push(l) })).toBe(2);
    expect(err).toEqual(['vmlayers: --html /nonexistent/dir/r.html: directory /nonexistent/dir does not exist']);
    expect(out).toEqual([]);
  });
});

describe('frame map', () => {
  it('accounts for every frame, with user frames by the process that took them', () => {
    let peakEvents = 0;
    const session = runScenario(new Session({ arch: sv39 }, (s) => void (peakEvents += s.events.length)));
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
