import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as lib from '../src/lib.js';

const read = (p: string) => readFileSync(new URL(p, import.meta.url), 'utf8');

describe('@vmlayers/demo/lib', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is the README example verbatim, and it stops at the copy-on-write step', async () => {
    expect(read('../README.md')).toContain('```ts\n' + read('../examples/lib-steps.ts') + '```');
    const lines: unknown[][] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a));
    await import('../examples/lib-steps.js');
    expect(lines.map((l) => String(l[0]))).toEqual([
      'boot sv39 on riscv-virt-64m',
      'spawn two processes',
      'mmap and touch anonymous memory',
      'map a program image shared read-only',
      'fork pid 1',
      'pid 3 writes its heap: copy-on-write',
    ]);
    for (const l of lines) expect(typeof l[1]).toBe('number');
  });

  it('steps a trace one line at a time, the vm in each line\'s state between yields', () => {
    const trace = lib.parseTrace('spawn a\nmmap a heap 2p rw private\nwrite a heap 0 "x"\nexit a\n', 't.trace');
    const session = new lib.Session({ arch: lib.ARCHES.ia32 });
    const seen: [string, number][] = [];
    for (const s of lib.traceSteps(trace, session)) seen.push([s!.step, session.vm.processes().length]);
    expect(seen).toEqual([
      ['boot', 0],
      ['line', 1],
      ['line', 1],
      ['line', 1],
      ['line', 0],
      ['end', 0],
    ]);
  });
});
