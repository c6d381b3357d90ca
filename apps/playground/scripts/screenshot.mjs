// Regenerates the root README's picture of the playground: sv39, the demo scenario at its copy-on-write step, the
// copied frame clicked. Drives the system's Chromium with playwright-core over the built site (dist/).
// Usage: npm run playground:screenshot  (from the root: builds first)   → docs/playground.png
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium } from './chromium.mjs';
import { serveStatic } from './static-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const out = process.argv[2] ?? join(here, '..', '..', '..', 'docs', 'playground.png');
const exe = findChromium();
if (exe === null) {
  console.error('screenshot: no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH)');
  process.exit(1);
}
if (!existsSync(join(dist, 'index.html'))) {
  console.error(`screenshot: ${dist} is not built (npm run playground -- --build)`);
  process.exit(1);
}
const { server, url } = await serveStatic(dist);
const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 940 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.waitForSelector('#step-title:not(:empty)');
  // Forward to the copy-on-write step, then click the copy.
  for (let i = 0; i < 20; i++) {
    if ((await page.textContent('#step-title'))?.includes('copy-on-write')) break;
    await page.keyboard.press('ArrowRight');
  }
  const to = Number(await page.getAttribute('#cow p.cow', 'data-to'));
  const at = await page.evaluate((pa) => globalThis.vmlayersPlayground.frameCentre(pa), to);
  if (at === null) throw new Error('the copied frame is not on the map');
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#frame-info li.mapping');
  // The child's leaf table, to show a table's entries too.
  const tables = await page.$$('section.process:last-of-type button.table[data-level]');
  if (tables.length > 0) await tables[tables.length - 1].click();
  await page.screenshot({ path: out, fullPage: false });
  console.log(`screenshot: ${out}`);
} finally {
  await browser.close();
  server.close();
}
