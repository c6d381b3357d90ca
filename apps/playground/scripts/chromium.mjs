// Where the system's Chromium is: the browser tests and the screenshot script drive it with playwright-core
// (Playwright's own browser download is not used). CHROMIUM_PATH wins; then the usual Debian/Ubuntu paths.
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'];

/** The path of a Chromium executable, or null when there is none. */
export function findChromium() {
  const env = process.env.CHROMIUM_PATH;
  if (env) return existsSync(env) ? env : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}
