import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHES, ARCH_NAMES } from '../src/arches.js';
import { main } from '../src/main.js';
import { niceSize, ramWorks, smallestRam } from '../src/ram.js';
import { VERSION } from '../src/version.js';

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
    for (const flag of ['--arch', '--board', '--ram', '--trace', '--capacity', '--json', '--html', '--help']) expect(r.out).toContain(flag);
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
    [['--arch', 'vax'], 2, new RegExp(`--arch vax is not an architecture \\(${ARCH_NAMES.join(', ')}\\)`)],
    [['--board', 'x', '--ram', '1M'], 2, /--board or --ram, not both/],
    [['stray'], 2, /Unexpected argument 'stray'/],
    [['--board', 'vax'], 2, /^vmlayers: --board vax is not a board \(riscv-virt-64m, .*stm32-512k.*\)$/],
    [['--arch', 'ia32', '--board', 'riscv-virt-4g'], 2, /^vmlayers: --board riscv-virt-4g cannot be used with --arch ia32: board riscv-virt-4g has RAM up to 0x180000000; /],
    [['--ram', 'lots'], 2, /^vmlayers: --ram lots is not a size \(try 64M\)$/],
    [['--ram', '6000'], 2, /^vmlayers: --ram must be a multiple of 4 KiB on sv39, got 6000$/],
    [['--arch', 'armv7m', '--ram', '1000'], 2, /^vmlayers: --ram must be a multiple of 512 B on armv7m, got 1000$/],
    [['--arch', 'sv39', '--ram', '4k'], 2, /^vmlayers: 4 KiB is too small for the scenario on sv39; try \d+K$/],
    [['--capacity'], 2, /^vmlayers: --capacity needs --trace FILE$/],
    [['--capacity', '--trace', 'apps/demo/traces/tasks.trace', '--html', '/tmp/r.html'], 2, /^vmlayers: give --capacity or --html, not both$/],
    [['--html', '/nonexistent/dir/r.html'], 2, /^vmlayers: --html \/nonexistent\/dir\/r\.html: directory \/nonexistent\/dir does not exist$/],
  ])('%j → status %i and a message on stderr, before anything runs', (argv, status, message) => {
    const r = run(...(argv as string[]));
    expect(r.status).toBe(status);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});

describe('--ram in the user\'s terms', () => {
  it.each([
    ['sv39', '64K'],
    ['ia32', '1M'],
    ['armv7m', '4K'],
  ])('on %s, %s is too small for the scenario: the smallest size that works is found, rounded up, and works', (arch, ram) => {
    const r = run('--arch', arch, '--ram', ram);
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    const m = new RegExp(`^vmlayers: \\d+ [KM]iB is too small for the scenario on ${arch}; try (\\d+)K$`).exec(r.err);
    expect(m).not.toBeNull();
    const suggested = Number(m![1]) * 1024;
    // The real minimum, probed: it works, a page less does not; the suggestion is the next round size above it.
    const ps = ARCHES[arch].pageSize;
    const min = smallestRam(ARCHES[arch], 1024, true)!;
    expect(ramWorks(ARCHES[arch], min, true).ok).toBe(true);
    expect(ramWorks(ARCHES[arch], min - ps, true).ok).toBe(false);
    expect(suggested).toBe(niceSize(min, ps));
    expect(suggested).toBeGreaterThanOrEqual(min);
    expect(suggested / 1024).toSatisfy((k: number) => Number.isInteger(Math.log2(k)) || Number.isInteger(Math.log2(k / 1.5)));
    expect(run('--arch', arch, '--ram', m![1] + 'K').status).toBe(0);
  });

  it('for a trace, checks only that the vm boots (what the trace needs is the trace\'s business)', () => {
    const trace = new URL('../traces/oom.trace', import.meta.url).pathname;
    const r = run('--trace', trace, '--ram', '8K');
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    const m = /^vmlayers: 8 KiB is too small to boot sv39; try (\d+)K$/.exec(r.err);
    expect(m).not.toBeNull();
    expect(ramWorks(ARCHES.sv39, Number(m![1]) * 1024, false).ok).toBe(true);
  });

  it('rounds up to 2^k or 1.5 × 2^k KiB, a multiple of the page', () => {
    expect([1, 1024, 1025, 168 * 1024, 200 * 1024, 1172 * 1024, 12 * 1024].map((n) => niceSize(n, 4096) / 1024)).toEqual([4, 4, 4, 192, 256, 1536, 12]);
    expect(niceSize(12 * 1024, 512) / 1024).toBe(12);
  });
});

describe('--html is checked before the run', () => {
  // root may write anywhere: there the case does not apply.
  it.runIf(process.getuid?.() !== 0)('refuses a directory that is not writable, with status 2 and no output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmlayers-html-'));
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const r = run('--html', join(ro, 'r.html'));
    expect(r.status).toBe(2);
    expect(r.err).toBe(`vmlayers: --html ${join(ro, 'r.html')}: directory ${ro} is not writable`);
    expect(r.out).toBe('');
  });

  it('refuses a path that is a directory, with status 2 and no output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmlayers-html-'));
    const d = run('--html', dir);
    expect(d.status).toBe(2);
    expect(d.err).toBe(`vmlayers: --html ${dir} is a directory`);
    expect(d.out).toBe('');
  });
});

describe('--json', () => {
  it('starts with a header record: schema, the demo version, arch and board', () => {
    const r = run('--json', '--arch', 'armv7m');
    const first = JSON.parse(r.out.split('\n')[0]);
    expect(first).toEqual({ type: 'header', schema: 'vmlayers-demo/1', version: VERSION, arch: 'armv7m', board: 'stm32-512k' });
    // The README documents this schema, with this very record.
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(`$ vmlayers --json --arch armv7m | head -1\n${JSON.stringify({ ...first, version: '0.0.0' })}\n`);
    expect(readme).toContain(`${JSON.stringify(JSON.parse(run('--json', '--ram', 'lots').out))}\n2\n`);
  });

  it('gives map records perms beside the raw bitmasks', () => {
    const r = run('--json');
    const steps = r.out.split('\n').map((l) => JSON.parse(l));
    const maps = steps.find((s) => s.step === 'protect').maps[1];
    expect(maps[0]).toMatchObject({ start: 0x1000, perms: 'r--p' });
    expect(maps[0].prot & 7).toBe(1);
    expect(maps.map((m: { perms: string }) => m.perms)).toEqual(['r--p', 'rw-p', 'rw-s', 'r-xp']);
  });

  it.each([
    [['--json', '--frobnicate'], 2, 'EUSAGE', /Unknown option '--frobnicate'/],
    [['--json', '--ram', 'lots'], 2, 'EUSAGE', /^--ram lots is not a size/],
    [['--json', '--arch', 'sv39', '--ram', '8k'], 2, 'EUSAGE', /^8 KiB is too small for the scenario on sv39; try \d+K$/],
    [['--json', '--trace', '/nonexistent/x.trace'], 2, 'EUSAGE', /^cannot read trace \/nonexistent\/x\.trace: ENOENT/],
  ])('%j: an error record on stdout instead of stderr text, status %i', (argv, status, code, message) => {
    const r = run(...(argv as string[]));
    expect(r.status).toBe(status);
    expect(r.err).toBe('');
    const rec = JSON.parse(r.out);
    expect(rec).toMatchObject({ type: 'error', code });
    expect(rec.message).toMatch(message);
  });
});

describe('--capacity', () => {
  const tasks = new URL('../traces/tasks.trace', import.meta.url).pathname;

  it('counts how many processes of a trace the 512 KiB board holds: exact runs, first fit', () => {
    const r = run('--arch', 'armv7m', '--trace', tasks, '--capacity');
    expect(r.status).toBe(0);
    expect(r.err).toBe('');
    // 76 with exact ranges placed first fit; 52 when every mapping took a power-of-two block (before issue 16).
    expect(r.out).toMatch(/^stm32-512k \(armv7m\) held 76 processes of .*tasks\.trace at once: 25 whole replays of its 3; replay 26 stopped at line \d+ with ENOMEM:\n  .*tasks\.trace:\d+: mmap /);
  });

  it('--json gives one capacity record after the header', () => {
    const r = run('--arch', 'armv7m', '--trace', tasks, '--capacity', '--json');
    expect(r.status).toBe(0);
    const lines = r.out.split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['header', 'capacity']);
    expect(lines[1]).toMatchObject({ processes: 76, copies: 25, perCopy: 3, stop: { copy: 26, code: 'ENOMEM' } });
  });

  it('a trace that leaves no process alive counts nothing, and says so; at most 1000 replays run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmlayers-cap-'));
    const gone = join(dir, 'gone.trace');
    // Exit lines are skipped, but a process whose spawn fails as expected never lives.
    writeFileSync(gone, 'object o 1p\nrelease o\n');
    let r = run('--arch', 'armv7m', '--trace', gone, '--capacity');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/gone\.trace leaves no process alive \(every one exits or fails\): nothing to count\.$/);
    const one = join(dir, 'one.trace');
    writeFileSync(one, 'spawn a\nexit a\n');
    r = run('--arch', 'sv39', '--trace', one, '--capacity');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/held 1000 processes .* 1000 whole replays of its 1, and the limit of 1000 replays was reached first\.$/);
  });
});
