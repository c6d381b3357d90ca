/*
 * The documentation a stranger reads resolves: every relative link and anchor in the READMEs and docs/ exists, every
 * design or upstream reference is a link, and every package says how to run each of its examples.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function docs(): string[] {
  const out = [join(root, 'README.md')];
  for (const group of ['packages', 'apps']) {
    for (const d of readdirSync(join(root, group)).sort()) {
      const f = join(root, group, d, 'README.md');
      if (existsSync(f)) out.push(f);
    }
  }
  for (const f of readdirSync(join(root, 'docs'))) if (f.endsWith('.md')) out.push(join(root, 'docs', f));
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (m) out.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

/** The text outside fenced code blocks and inline code. */
function prose(markdown: string): string {
  return markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
}

const rel = (f: string) => f.slice(root.length + 1);

describe('documentation', () => {
  it.each(docs().map((f) => [rel(f), f]))('%s: every relative link and anchor resolves', (_, file) => {
    const text = prose(readFileSync(file, 'utf8'));
    const broken: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#');
      const at = path === '' ? file : resolve(dirname(file), path);
      if (!existsSync(at)) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor !== undefined && at.endsWith('.md') && !anchors(readFileSync(at, 'utf8')).has(anchor)) broken.push(`${target}: no such heading`);
    }
    expect(broken).toEqual([]);
  });

  it.each(docs().map((f) => [rel(f), f]))('%s: design sections and upstream issues are links', (_, file) => {
    const text = prose(readFileSync(file, 'utf8'))
      .replace(/\[[^\]]*\]\([^)]*\)/g, '') // link texts are fine
      .replace(/SDM[^§]{0,20}§[\d.]+/g, ''); // another document's sections
    expect(text.match(/DESIGN|§\s?\d|project#\d|PR #\d/g) ?? []).toEqual([]);
  });

  it.each(docs().filter((f) => existsSync(join(dirname(f), 'examples'))).map((f) => [rel(f), f]))('%s: says how to run each example', (_, file) => {
    const dir = dirname(file);
    const text = readFileSync(file, 'utf8');
    for (const ex of readdirSync(join(dir, 'examples')).filter((f) => f.endsWith('.ts'))) {
      expect(text, ex).toContain(`npx tsx ${rel(join(dir, 'examples', ex))}`);
    }
  });

  it('the design notes exist and hold the sections the READMEs cite', () => {
    const a = anchors(readFileSync(join(root, 'docs', 'design.md'), 'utf8'));
    for (const s of ['3-contracts-between-layers', '4-behaviour-that-must-hold', '5-figures', '6-the-originals-known-bugs']) expect(a.has(s), s).toBe(true);
  });
});
