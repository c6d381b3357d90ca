// Run by `npm test` before the tests: says in one loud line when the playground's browser tests will be skipped
// for want of a Chromium (the test runner hides the logs of passing tasks, so the test file's own warning would not
// be seen).
import { findChromium } from './chromium.mjs';

if (findChromium() === null) {
  console.log('\n!!! no Chromium found: the playground browser tests will be SKIPPED (apt-get install -y chromium, or set CHROMIUM_PATH) !!!\n');
}
