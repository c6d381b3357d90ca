import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

describe('vmlayers', () => {
  it('answers --help on stdout with status 0, listing only what it implements', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.out).toContain('Usage: vmlayers');
    for (const flag of ['--arch', '--board', '--ram', '--trace', '--json', '--html', '--help']) expect(r.out).toContain(flag);
    expect(r.err).toBe('');
  });

  it('answers --version (and -V) with the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      expect(r.status).toBe(0);
      expect(r.out).toBe(`vmlayers ${pkg.version}`);
      expect(r.err).toBe('');
    }
    expect(pkg.bin).toEqual({ vmlayers: './dist/cli.js' });
  });

  it.each([
    [['--frobnicate'], 2, /Unknown option '--frobnicate'/],
    [['--arch', 'vax'], 2, /--arch vax is not an architecture \(sv39, ia32, armv7m\)/],
    [['--board', 'x', '--ram', '1M'], 2, /--board or --ram, not both/],
    [['stray'], 2, /Unexpected argument 'stray'/],
    [['--board', 'vax'], 1, /ENOENT: board vax is not a preset/],
    [['--ram', 'lots'], 1, /EINVAL: --ram lots is not a size/],
    [['--arch', 'sv39', '--ram', '4k'], 1, /EINVAL: board ram-4096 cannot be used by sv39/],
  ])('%j → status %i and a message on stderr', (argv, status, message) => {
    const r = run(...(argv as string[]));
    expect(r.status).toBe(status);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});
