// How long a step takes in the browser: runs the demo scenario on each board given (default the 64 MiB and 4 GiB
// one-bank boards, and the architecture's default) in the system's Chromium and prints the median and the slowest
// step, as the page records them (library work plus the frame-map model, not the drawing).
// Usage: node apps/playground/scripts/step-timing.mjs [arch] (after a build)
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium } from './chromium.mjs';
import { serveStatic } from './static-server.mjs';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const arch = process.argv[2] ?? 'sv39';
const exe = findChromium();
if (exe === null) {
  console.error('step-timing: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)');
  process.exit(1);
}
const { server, url } = await serveStatic(dist);
const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('#step-title:not(:empty)');
  await page.selectOption('#arch', arch);
  const boards = await page.$$eval('#board option', (os) => os.map((o) => o.value));
  for (const board of boards) {
    await page.selectOption('#board', board);
    await page.waitForFunction(() => document.getElementById('position').textContent.startsWith('step 1 of'));
    const t0 = Date.now();
    await page.click('#end');
    const wall = Date.now() - t0;
    const ms = await page.evaluate(() => globalThis.vmlayersPlayground.run.records.map((r) => r.ms));
    const sorted = [...ms].sort((a, b) => a - b);
    const back0 = Date.now();
    await page.click('#back');
    const back = Date.now() - back0;
    console.log(`${arch} ${board.padEnd(16)} ${ms.length} steps: median ${sorted[sorted.length >> 1].toFixed(1)} ms, slowest ${sorted[sorted.length - 1].toFixed(1)} ms; run to end ${wall} ms with drawing; one step back (replay) ${back} ms`);
  }
} finally {
  await browser.close();
  server.close();
}
