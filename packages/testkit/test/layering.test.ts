import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLayering } from '../src/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

// A copy of the repository's manifests and sources (no node_modules) to plant violations in.
function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'layering-'));
  for (const group of ['packages', 'apps']) {
    cpSync(join(repo, group), join(dir, group), {
      recursive: true,
      filter: (src) => !/[\\/](node_modules|dist|\.turbo)$/.test(src),
    });
  }
  return dir;
}

function editJson(file: string, fn: (j: Record<string, Record<string, string>>) => void): void {
  const j = JSON.parse(readFileSync(file, 'utf8'));
  fn(j);
  writeFileSync(file, JSON.stringify(j));
}

// Planted import lines are assembled at run time so that this file's own text holds no import to flag.
const q = "'";
const importFrom = (spec: string) => `import { x } from ${q}${spec}${q};\nexport const y = x;\n`;
const dynamicImport = (spec: string) => `const m = await import(${q}${spec}${q});\n`;
const requireOf = (spec: string) => `const m = require(${q}${spec}${q});\n`;
const bareImport = (spec: string) => `import ${q}${spec}${q};\n`;

function plant(dir: string, file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function fresh(): string {
  const d = fixture();
  dirs.push(d);
  return d;
}

describe('layering check', () => {
  it('passes on this repository', () => {
    expect(checkLayering(repo)).toEqual([]);
  });

  it('catches a dependency that points up', () => {
    const d = fresh();
    editJson(join(d, 'packages/phys/package.json'), (j) => {
      j.dependencies = { '@vmlayers/mapper': 'workspace:^' };
    });
    const v = checkLayering(d);
    expect(v.map((x) => x.message)).toContain('@vmlayers/phys may not depend on @vmlayers/mapper (allowed: none)');
  });

  it('catches a peerDependency that points sideways', () => {
    const d = fresh();
    editJson(join(d, 'packages/pmap-mmu/package.json'), (j) => {
      j.peerDependencies = { '@vmlayers/pmap-nommu': 'workspace:^' };
    });
    expect(checkLayering(d).some((x) => x.message.includes('pmap-mmu may not depend on @vmlayers/pmap-nommu'))).toBe(true);
  });

  it('catches a pmap imported from src/ of an upper layer, even when listed as a devDependency', () => {
    const d = fresh();
    plant(d, 'packages/mapper/src/planted.ts', importFrom('@vmlayers/pmap-mmu'));
    const v = checkLayering(d);
    expect(v).toContainEqual({
      pkg: '@vmlayers/mapper',
      where: 'packages/mapper/src/planted.ts:1',
      message: 'src/ of @vmlayers/mapper imports @vmlayers/pmap-mmu, which it may not use there',
    });
  });

  it('allows the pmaps from test/ and bench/ of an upper layer', () => {
    const d = fresh();
    plant(d, 'packages/mapper/test/planted.test.ts', importFrom('@vmlayers/pmap-mmu'));
    plant(d, 'packages/kmalloc/bench/planted.ts', dynamicImport('@vmlayers/pmap-nommu'));
    expect(checkLayering(d)).toEqual([]);
  });

  it('catches an import of a layer above, in src/ and in test/', () => {
    const d = fresh();
    plant(d, 'packages/kmalloc/src/planted.ts', importFrom('@vmlayers/memobj'));
    plant(d, 'packages/phys/test/planted.test.ts', requireOf('@vmlayers/kmalloc/internal/x'));
    const where = checkLayering(d).map((x) => x.where);
    expect(where).toEqual(['packages/kmalloc/src/planted.ts:1', 'packages/phys/test/planted.test.ts:1']);
  });

  it('catches a relative import into another package', () => {
    const d = fresh();
    plant(d, 'packages/phys/src/planted.ts', bareImport('../../mapper/src/index.js'));
    expect(checkLayering(d).map((x) => x.message)).toEqual([
      'src/ of @vmlayers/phys reaches outside its package with ../../mapper/src/index.js',
    ]);
  });

  it('catches a devDependency cycle through testkit', () => {
    const d = fresh();
    editJson(join(d, 'packages/pmap-mmu/package.json'), (j) => {
      j.devDependencies = { '@vmlayers/testkit': 'workspace:*' };
    });
    editJson(join(d, 'packages/testkit/package.json'), (j) => {
      j.dependencies = { ...j.dependencies, '@vmlayers/pmap-mmu': 'workspace:*' };
    });
    const messages = checkLayering(d).map((x) => x.message);
    expect(messages).toContain('@vmlayers/pmap-mmu may not have @vmlayers/testkit even as a devDependency');
    expect(messages.some((m) => m.startsWith('dependency cycle'))).toBe(true);
  });

  it('catches a package the rules do not know', () => {
    const d = fresh();
    plant(d, 'packages/rogue/package.json', JSON.stringify({ name: '@vmlayers/rogue' }));
    expect(checkLayering(d).map((x) => x.message)).toEqual(['@vmlayers/rogue has no place in the layering rules']);
  });
});
