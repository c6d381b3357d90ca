/*
 * What `npm test` ran, package by package: turbo keeps each task's output in `<package>/.turbo/turbo-test.log`
 * even when it prints only errors; this reads vitest's summary lines back from those logs.
 *
 *   node test-summary-cli.js [root] [--since EPOCH_SECONDS]     (logs older than --since are reported as not run)
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const sinceAt = args.indexOf('--since');
const since = sinceAt >= 0 ? Number(args[sinceAt + 1]) * 1000 : 0;
const root = resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--since') ?? '.');

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

interface Row {
  name: string;
  files: string;
  tests: string;
  duration: string;
}

const rows: Row[] = [];
let total = 0;
for (const group of ['packages', 'apps']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  for (const dir of readdirSync(base).sort()) {
    const manifest = join(base, dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, scripts } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; scripts?: Record<string, string> };
    if (scripts?.test === undefined) continue;
    const log = join(base, dir, '.turbo', 'turbo-test.log');
    if (!existsSync(log) || statSync(log).mtimeMs < since - 1000) {
      rows.push({ name, files: '-', tests: 'not run', duration: '-' });
      continue;
    }
    const text = readFileSync(log, 'utf8').replace(ANSI, '');
    const pick = (label: string) => new RegExp(`^\\s*${label}\\s+(.*)$`, 'm').exec(text)?.[1].trim() ?? '?';
    const tests = pick('Tests');
    const passed = /(\d+) passed/.exec(tests);
    if (passed) total += Number(passed[1]);
    rows.push({ name, files: pick('Test Files'), tests, duration: pick('Duration').replace(/\s*\(.*$/, '') });
  }
}

const w = (k: keyof Row) => Math.max(k.length, ...rows.map((r) => r[k].length));
const line = (r: Row) => `  ${r.name.padEnd(w('name'))}  ${r.tests.padEnd(w('tests'))}  ${r.files.padEnd(w('files'))}  ${r.duration}`;
console.log('\ntests by package:');
console.log(line({ name: 'package', tests: 'tests', files: 'files', duration: 'duration' }));
for (const r of rows) console.log(line(r));
console.log(`  ${total} tests passed in all`);
