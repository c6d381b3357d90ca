import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { ARCHES, ARCH_NAMES, Session, runScenario } from '@vmlayers/demo/lib';
import type { Step } from '@vmlayers/demo/lib';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../scripts/chromium.mjs';
import { serveStatic } from '../scripts/static-server.mjs';

const DIST = join(import.meta.dirname, '..', 'dist');
const executable = findChromium();
if (executable === null && process.env.VMLAYERS_REQUIRE_BROWSER) throw new Error('VMLAYERS_REQUIRE_BROWSER is set but no Chromium was found (CHROMIUM_PATH, /usr/bin/chromium)');
if (executable === null) {
  // One loud line: the browser tests are skipped, everything else runs. CI installs Chromium, so they run there.
  console.warn('\n!!! playground browser tests SKIPPED: no Chromium found (install it: apt-get install -y chromium, or set CHROMIUM_PATH) !!!\n');
}

/** The scenario's steps as `createVm` gives them in Node (through the demo's Session). */
function nodeSteps(arch: string): Step[] {
  const steps: Step[] = [];
  runScenario(new Session({ arch: ARCHES[arch] }, (s) => steps.push(s)));
  return steps;
}

/** The page's view of the current step: what the tests compare. */
async function view(page: Page) {
  return page.evaluate(() => {
    const maps: Record<string, string> = {};
    for (const el of document.querySelectorAll<HTMLElement>('pre.maps')) maps[el.dataset.pid!] = el.textContent ?? '';
    return {
      position: document.getElementById('position')!.textContent,
      title: document.getElementById('step-title')!.textContent,
      free: Number(document.getElementById('free-frames')!.textContent),
      maps,
    };
  });
}

/** Everything the views show, for an exact comparison. */
async function snapshot(page: Page) {
  return page.evaluate(() => ({
    html: ['step-title', 'narration', 'cow', 'meminfo', 'charts', 'proc-list', 'legend', 'frame-info', 'step-error'].map((id) => document.getElementById(id)!.innerHTML),
    canvas: (document.getElementById('frame-map') as HTMLCanvasElement).toDataURL(),
  }));
}

describe.skipIf(executable === null)('the playground in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST} is not built: run the playground's build first`);
    ({ server, url } = await serveStatic(DIST));
    browser = await chromium.launch({ executablePath: executable!, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    // No network at run time: any request off the local server is a failure.
    page.on('request', (r) => void (!r.url().startsWith(url) && !r.url().startsWith('data:') && problems.push(`request: ${r.url()}`)));
    await page.goto(url);
    await page.waitForSelector('#step-title:not(:empty)');
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
  });

  it('loads with no console error and no request off its own server, at step 1 of the scenario', async () => {
    const v = await view(page);
    expect(v.position).toMatch(/^step 1 of/);
    expect(v.title).toMatch(/^1\. boot sv39 on riscv-virt-64m/);
    expect(problems).toEqual([]);
  });

  for (const arch of ARCH_NAMES) {
    it(`shows at every step of the scenario on ${arch} the free frames and maps createVm gives in Node`, async () => {
      const want = nodeSteps(arch);
      await page.selectOption('#arch', arch);
      await page.waitForFunction((a) => document.getElementById('step-title')!.textContent!.includes(a), arch);
      await page.focus('body');
      for (let i = 0; i < want.length; i++) {
        const v = await view(page);
        expect(v.position, `step ${i + 1}`).toMatch(new RegExp(`^step ${i + 1} of`));
        expect(v.free, `free frames at step ${i + 1}`).toBe(want[i].meminfo.page.free / ARCHES[arch].pageSize);
        expect(v.maps, `maps at step ${i + 1}`).toEqual(Object.fromEntries(Object.entries(want[i].mapsText).map(([k, t]) => [k, t])));
        await page.keyboard.press('ArrowRight');
      }
      expect((await view(page)).position).toBe(`step ${want.length} of ${want.length}`);
      expect(problems).toEqual([]);
    });
  }

  it('lists exactly one process for the frame copied at the copy-on-write step, when clicked', async () => {
    const want = nodeSteps('sv39');
    const cowAt = want.findIndex((s) => s.step === 'cow');
    const copy = want[cowAt].figures.copiedTo as number;
    await page.selectOption('#arch', 'sv39');
    await page.waitForFunction(() => document.getElementById('position')!.textContent!.startsWith('step 1 of'));
    for (let i = 0; i < cowAt; i++) await page.keyboard.press('ArrowRight');
    expect((await view(page)).title).toMatch(/copy-on-write/);
    const at = await page.evaluate((pa) => (globalThis as unknown as { vmlayersPlayground: { frameCentre(pa: number): { x: number; y: number } | null } }).vmlayersPlayground.frameCentre(pa), copy);
    expect(at).not.toBeNull();
    await page.mouse.click(at!.x, at!.y);
    await page.waitForSelector('#frame-info h3');
    const frame = await page.textContent('#frame-info h3');
    expect(frame).toContain(`0x${copy.toString(16).padStart(8, '0')}`);
    const mappers = await page.$$eval('#frame-info li.mapping', (els) => els.map((e) => (e as HTMLElement).dataset.pid));
    expect(mappers).toEqual([String(want.find((s) => s.step === 'fork')!.figures.child)]);
    // The narration shows the copy as an arrow from the source frame to the copy.
    expect(await page.getAttribute('#cow p.cow', 'data-to')).toBe(String(copy));
    expect(await page.getAttribute('#cow p.cow', 'data-from')).toBe(String(want[cowAt].figures.copiedFrom));
    expect(problems).toEqual([]);
  });

  it('restores the step-1 view exactly when stepped back to step 1', async () => {
    await page.selectOption('#arch', 'ia32');
    await page.waitForFunction(() => document.getElementById('step-title')!.textContent!.includes('ia32'));
    const first = await snapshot(page);
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight');
    expect((await view(page)).position).toMatch(/^step 7 of/);
    expect((await snapshot(page)).html).not.toEqual(first.html);
    for (let i = 0; i < 6; i++) await page.click('#back');
    expect((await view(page)).position).toMatch(/^step 1 of/);
    expect(await snapshot(page)).toEqual(first);
    expect(problems).toEqual([]);
  });

  it('opens the step a link names (#arch=…&workload=…&step=N), and keeps the address up to date', async () => {
    const other = await browser.newPage();
    try {
      await other.goto(`${url}#arch=ia32&workload=scenario&step=6`);
      await other.waitForSelector('#step-title:not(:empty)');
      expect(await other.textContent('#step-title')).toMatch(/^6\. pid \d+ writes its heap: copy-on-write/);
      expect(await other.textContent('#board')).toContain('ia32-pc-32m');
      await other.keyboard.press('ArrowRight');
      expect(new URL(other.url()).hash).toBe('#arch=ia32&board=ia32-pc-32m&workload=scenario&step=7');
    } finally {
      await other.close();
    }
  });

  it('shows the errors of a bad trace with their line numbers and runs nothing', async () => {
    await page.selectOption('#workload', 'custom');
    await page.fill('#editor', 'spawn a\nmmap a heap 2p rw private\nwrite a heap 0 nonsense\nexit a\n');
    await page.click('#run-trace');
    const errors = await page.$$eval('#trace-errors li', (els) => els.map((e) => [(e as HTMLElement).dataset.line, e.textContent]));
    expect(errors.length).toBe(1);
    expect(errors[0][0]).toBe('3');
    expect(errors[0][1]).toMatch(/^your\.trace:3: /);
    expect(await page.textContent('#position')).toBe('nothing running');
    expect(await page.textContent('#narration')).toBe('');
    expect(await page.$$('pre.maps')).toEqual([]);
    // Mended, the same trace runs.
    await page.fill('#editor', 'spawn a\nmmap a heap 2p rw private\nwrite a heap 0 "hello"\nexit a\n');
    await page.click('#run-trace');
    expect(await page.$$('#trace-errors li')).toEqual([]);
    expect((await view(page)).position).toMatch(/^step 1 of/);
    await page.click('#end');
    expect((await view(page)).position).toBe('step 6 of 6');
    expect(problems).toEqual([]);
  });
});
