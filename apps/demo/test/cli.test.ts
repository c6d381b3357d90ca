import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

describe('vmlayers-demo', () => {
  it('boots the default board and ends with memory back at its boot figures', () => {
    const r = run('--json');
    expect(r.status).toBe(0);
    const steps = r.out.split('\n').map((l) => JSON.parse(l));
    expect(steps.map((s) => s.step)).toEqual(['boot', 'alloc', 'free']);
    const MiB = 1 << 20;
    expect(steps[0].meminfo).toEqual({ total: 64 * MiB, free: 61 * MiB, alloc: 3 * MiB, boot: 3 * MiB, kernel: 0, app: 0 });
    // 3 table pages + 16 heap pages for the kernel; 5 pages rounded up to 8 for the program.
    expect(steps[1].meminfo).toMatchObject({ kernel: 19 * 4096, app: 8 * 4096 });
    expect(steps[2].meminfo).toEqual(steps[0].meminfo);
    expect(steps[2].pageMap).toBe(steps[0].pageMap);
    expect(steps[1].pageMap).toMatch(/^vm: \[768B\]\[3P\]/);
    expect(steps[1].pageMap).toContain('[16H]');
    expect(steps[1].pageMap).toContain('[8A]');
  });

  it('prints prose with meminfo and the page map', () => {
    const r = run('--board', 'ia32-pc-32m');
    expect(r.status).toBe(0);
    expect(r.out).toContain('Board ia32-pc-32m, 4 KiB pages');
    expect(r.out).toContain('meminfo: total 31.9 MiB, free 30.6 MiB, allocated 1.3 MiB (boot 1.3 MiB, kernel 0 B, app 0 B)');
    expect(r.out).toContain('vm: B[158.]B[32x][320B][7680.]');
    expect(r.err).toBe('');
  });

  it('runs on a RAM size and on 512-byte pages', () => {
    expect(run('--ram', '16M').status).toBe(0);
    const r = run('--board', 'stm32-512k', '--page-size', '512');
    expect(r.status).toBe(0);
    expect(r.out).toContain('Board stm32-512k, 512 B pages');
  });

  it('answers --help on stdout with status 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.out).toContain('Usage: vmlayers-demo');
  });

  it.each([
    [['--frobnicate'], 2, /Unknown option '--frobnicate'/],
    [['--board', 'x', '--ram', '1M'], 2, /--board or --ram, not both/],
    [['--page-size', 'big'], 2, /--page-size big is not a size/],
    [['--board', 'vax'], 1, /ENOENT: board vax is not a preset/],
    [['--ram', 'lots'], 1, /EINVAL: --ram lots is not a size/],
    [['--board', 'stm32-512k', '--page-size', '3000'], 1, /EINVAL: pageSize must be a power of two/],
  ])('%j → status %i and a message on stderr', (argv, status, message) => {
    const r = run(...(argv as string[]));
    expect(r.status).toBe(status);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });
});
