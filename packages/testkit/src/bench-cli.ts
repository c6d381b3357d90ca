/*
 * The benchmark runner (run with `node --expose-gc --import tsx`).
 *
 *   bench-cli.ts <dir|file.bench.ts>...   in a package: runs each bench module in a process of its own
 *   bench-cli.ts --all [--json [file]]     at the root: builds quietly, runs every package's `bench` script in
 *                                          layer order, and with --json writes every figure to a file
 *                                          (default bench-results.json)
 *   --rounds N                             measured rounds per row (default 11)
 *
 * A bench module default-exports a generator of rows, figures and notes (`BenchSuite`) and may export `title`;
 * it does not import the harness, so the layers below testkit (phys, the pmaps) can be measured with it too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BENCH_JSONL_ENV, BenchCollector, runSuite } from './bench/index.js';
import type { BenchResult, BenchSuite } from './bench/index.js';

const ROUNDS_ENV = 'VMLAYERS_BENCH_ROUNDS';
const ORDER = ['phys', 'pmap-mmu', 'pmap-nommu', 'mapper', 'kmalloc', 'memobj'];
const self = fileURLToPath(import.meta.url);

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(1);
}

function parse(argv: string[]) {
  let all = false;
  let json: string | undefined;
  let file: string | undefined;
  const paths: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--all') all = true;
    else if (a === '--file') file = argv[++i];
    else if (a === '--json') json = argv[i + 1] && !argv[i + 1].startsWith('-') ? argv[++i] : 'bench-results.json';
    else if (a === '--rounds') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) fail(`--rounds: ${argv[i]} is not a positive integer`);
      process.env[ROUNDS_ENV] = String(n);
    } else paths.push(a);
  }
  return { all, json, file, paths };
}

function rounds(): { rounds?: number } {
  const r = process.env[ROUNDS_ENV];
  return r ? { rounds: Number(r) } : {};
}

function packageName(dir: string): string {
  for (let d = resolve(dir); ; d = resolve(d, '..')) {
    const f = join(d, 'package.json');
    if (existsSync(f)) return (JSON.parse(readFileSync(f, 'utf8')) as { name: string }).name;
    if (d === resolve(d, '..')) return '?';
  }
}

async function runFile(file: string): Promise<BenchResult[]> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown; title?: unknown };
  if (typeof mod.default !== 'function') fail(`${file} has no default export (a generator of bench rows)`);
  const title = typeof mod.title === 'string' ? mod.title : file;
  return runSuite(packageName(file), title, mod.default as BenchSuite, rounds());
}

function benchFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) out.push(...readdirSync(p).filter((f) => f.endsWith('.bench.ts')).sort().map((f) => join(p, f)));
    else out.push(p);
  }
  return out;
}

function runAll(json: string | undefined): void {
  const root = process.cwd();
  const build = spawnSync('turbo', ['run', 'build', '--output-logs=errors-only'], { cwd: root, encoding: 'utf8', shell: true });
  if (build.status !== 0) {
    process.stdout.write(build.stdout ?? '');
    process.stderr.write(build.stderr ?? '');
    fail('build failed');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'vmlayers-bench-'));
  const jsonl = join(tmp, 'results.jsonl');
  let failed = false;
  for (const name of ORDER) {
    const dir = join(root, 'packages', name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    if (!pkg.scripts?.bench) continue;
    const r = spawnSync('npm', ['run', '-s', 'bench'], { cwd: dir, stdio: 'inherit', env: { ...process.env, [BENCH_JSONL_ENV]: jsonl } });
    if (r.status !== 0) {
      failed = true;
      console.error(`bench: ${name} failed (exit ${r.status})`);
    }
    console.log('');
  }
  if (json) {
    const c = new BenchCollector();
    const lines = existsSync(jsonl) ? readFileSync(jsonl, 'utf8').split('\n').filter(Boolean) : [];
    for (const l of lines) {
      const { package: p, ...r } = JSON.parse(l) as BenchResult & { package: string };
      c.add(p, r);
    }
    c.write(resolve(root, json));
    console.log(`${c.results.length} results written to ${json}`);
  }
  rmSync(tmp, { recursive: true, force: true });
  if (failed) process.exit(1);
}

const args = parse(process.argv.slice(2));
if (args.all) runAll(args.json);
else if (args.file) await runFile(args.file);
else {
  const files = benchFiles(args.paths.length ? args.paths : ['bench']);
  if (files.length === 0) fail('no *.bench.ts files');
  let failed = false;
  for (const f of files) {
    // One process per module: no JIT state (type feedback, inlining decisions) carried from one suite to the next.
    const r = spawnSync(process.execPath, [...process.execArgv, self, '--file', f], { stdio: 'inherit' });
    if (r.status !== 0) failed = true;
  }
  if (failed) process.exit(1);
}
