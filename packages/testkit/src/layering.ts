import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/**
 * The layering rules of DESIGN §2. `deps` lists what a package may name in `dependencies`/`peerDependencies`
 * and import from `src/`; `devOnly` what it may additionally use from `test/`, `bench/` and `examples/`
 * (through `devDependencies`). Anything else pointing at a workspace package is a violation.
 */
export const LAYER_RULES: Readonly<Record<string, { deps: readonly string[]; devOnly: readonly string[] }>> = {
  '@vmlayers/phys': { deps: [], devOnly: [] },
  '@vmlayers/pmap-mmu': { deps: ['@vmlayers/phys'], devOnly: [] },
  '@vmlayers/pmap-nommu': { deps: ['@vmlayers/phys'], devOnly: [] },
  '@vmlayers/mapper': {
    deps: ['@vmlayers/phys'],
    devOnly: ['@vmlayers/pmap-mmu', '@vmlayers/pmap-nommu', '@vmlayers/testkit'],
  },
  '@vmlayers/kmalloc': {
    deps: ['@vmlayers/mapper', '@vmlayers/phys'],
    devOnly: ['@vmlayers/pmap-mmu', '@vmlayers/pmap-nommu', '@vmlayers/testkit'],
  },
  '@vmlayers/memobj': {
    deps: ['@vmlayers/kmalloc', '@vmlayers/mapper', '@vmlayers/phys'],
    devOnly: ['@vmlayers/pmap-mmu', '@vmlayers/pmap-nommu', '@vmlayers/testkit'],
  },
  '@vmlayers/demo': {
    deps: [
      '@vmlayers/phys',
      '@vmlayers/pmap-mmu',
      '@vmlayers/pmap-nommu',
      '@vmlayers/mapper',
      '@vmlayers/kmalloc',
      '@vmlayers/memobj',
    ],
    devOnly: ['@vmlayers/testkit'],
  },
  // The browser playground: an application over every layer, and over the demo's engine (`@vmlayers/demo/lib`).
  '@vmlayers/playground': {
    deps: [
      '@vmlayers/phys',
      '@vmlayers/pmap-mmu',
      '@vmlayers/pmap-nommu',
      '@vmlayers/mapper',
      '@vmlayers/kmalloc',
      '@vmlayers/memobj',
      '@vmlayers/demo',
    ],
    devOnly: ['@vmlayers/testkit'],
  },
  // Private helpers shared by tests: may lean on phys and the pmaps only, so no devDependency makes a cycle.
  '@vmlayers/testkit': { deps: ['@vmlayers/phys', '@vmlayers/pmap-mmu', '@vmlayers/pmap-nommu'], devOnly: [] },
};

export interface Violation {
  /** Package the violation is in. */
  pkg: string;
  /** File (relative to the root) and, for imports, the line. */
  where: string;
  message: string;
}

const SCOPE = '@vmlayers/';
const DEV_DIRS = ['test', 'bench', 'examples'];
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"\n]+)['"]/g;

interface Pkg {
  name: string;
  dir: string;
  json: Record<string, Record<string, string> | undefined>;
}

function workspacePackages(root: string): Pkg[] {
  const out: Pkg[] = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const d of readdirSync(base).sort()) {
      const file = join(base, d, 'package.json');
      if (!existsSync(file)) continue;
      const json = JSON.parse(readFileSync(file, 'utf8'));
      out.push({ name: json.name, dir: join(base, d), json });
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(c|m)?[jt]sx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

function packageOf(specifier: string): string | undefined {
  if (!specifier.startsWith(SCOPE)) return undefined;
  return specifier.split('/').slice(0, 2).join('/');
}

/** Every layering violation under `root` (a checkout of this repository): manifests, imports, cycles. */
export function checkLayering(root: string): Violation[] {
  root = resolve(root);
  const pkgs = workspacePackages(root);
  const names = new Set(pkgs.map((p) => p.name));
  const violations: Violation[] = [];
  const edges = new Map<string, string[]>();

  for (const p of pkgs) {
    const manifest = relative(root, join(p.dir, 'package.json'));
    const rules = LAYER_RULES[p.name];
    if (!rules) {
      violations.push({ pkg: p.name, where: manifest, message: `${p.name} has no place in the layering rules` });
      continue;
    }
    const runtime = { ...p.json.dependencies, ...p.json.peerDependencies };
    const dev = p.json.devDependencies ?? {};
    const out: string[] = [];
    for (const dep of Object.keys(runtime)) {
      if (!names.has(dep) && !dep.startsWith(SCOPE)) continue;
      out.push(dep);
      if (!rules.deps.includes(dep)) {
        violations.push({ pkg: p.name, where: manifest, message: `${p.name} may not depend on ${dep} (allowed: ${rules.deps.join(', ') || 'none'})` });
      }
    }
    for (const dep of Object.keys(dev)) {
      if (!names.has(dep) && !dep.startsWith(SCOPE)) continue;
      out.push(dep);
      if (!rules.deps.includes(dep) && !rules.devOnly.includes(dep)) {
        violations.push({ pkg: p.name, where: manifest, message: `${p.name} may not have ${dep} even as a devDependency` });
      }
    }
    edges.set(p.name, out);

    const check = (file: string, allowed: ReadonlySet<string>, kind: string) => {
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        for (const m of line.matchAll(IMPORT_RE)) {
          const spec = m[1];
          const where = `${relative(root, file)}:${i + 1}`;
          const target = packageOf(spec);
          if (target && target !== p.name && !allowed.has(target)) {
            violations.push({ pkg: p.name, where, message: `${kind} of ${p.name} imports ${spec}, which it may not use there` });
          }
          if (spec.startsWith('.')) {
            const abs = resolve(file, '..', spec);
            if (!abs.startsWith(p.dir + sep)) {
              violations.push({ pkg: p.name, where, message: `${kind} of ${p.name} reaches outside its package with ${spec}` });
            }
          }
        }
      });
    };
    const declared = (deps: Record<string, string>, allow: readonly string[]) =>
      new Set(Object.keys(deps).filter((d) => allow.includes(d)));
    const srcAllowed = declared(runtime, rules.deps);
    const devAllowed = new Set([...srcAllowed, ...declared(dev, [...rules.deps, ...rules.devOnly])]);
    for (const f of sourceFiles(join(p.dir, 'src'))) check(f, srcAllowed, 'src/');
    for (const d of DEV_DIRS) for (const f of sourceFiles(join(p.dir, d))) check(f, devAllowed, `${d}/`);
  }

  // Cycles through any kind of dependency: turbo refuses them, devDependencies included.
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 1);
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 1) {
        const cycle = [...stack.slice(stack.indexOf(m)), m].join(' → ');
        violations.push({ pkg: n, where: 'package.json', message: `dependency cycle ${cycle}` });
      } else if (!state.has(m) && edges.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 2);
  };
  for (const n of edges.keys()) if (!state.has(n)) visit(n);
  return violations;
}
