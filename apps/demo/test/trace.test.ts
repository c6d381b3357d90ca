import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { TraceError, TraceErrors, parseTrace } from '../src/trace.js';

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const status = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { status, out: out.join('\n'), err: err.join('\n') };
}

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmlayers-trace-'));
  const path = join(dir, 'bad.trace');
  writeFileSync(path, text);
  return path;
}

describe('parseTrace', () => {
  it('reads every operation, sizes in bytes and pages, comments and expectations', () => {
    const t = parseTrace(
      [
        '# a comment',
        'spawn a',
        'object o 2p "hi"',
        'mmap a r 16K rw private # trailing comment',
        'mmap a t 2p rx private object o 1p',
        'fork a b',
        'expect ENOSYS on nommu',
        'expect ENOMEM',
        'mprotect b r 0 1p r',
        'write b r 4096 "x y"',
        'write b r 0 2p 0x11',
        'read a r 0 "x"',
        'read a r 1p 4',
        'munmap a r 0 1p',
        'munmap a r',
        'release o',
        'exit b',
        'exit a',
      ].join('\n'),
      'ok.trace',
    );
    expect(t.ops.map((o) => o.op)).toEqual(['spawn', 'object', 'mmap', 'mmap', 'fork', 'mprotect', 'write', 'write', 'read', 'read', 'munmap', 'munmap', 'release', 'exit', 'exit']);
    expect(t.ops[2]).toMatchObject({ line: 4, size: { n: 16384, pages: false }, prot: 3, shared: false });
    expect(t.ops[3]).toMatchObject({ object: 'o', offset: { n: 1, pages: true }, prot: 5 });
    expect(t.ops[4].expect).toEqual([{ errno: 'ENOSYS', on: ['nommu'] }, { errno: 'ENOMEM' }]);
    expect(t.ops[6]).toMatchObject({ data: { text: 'x y' }, offset: { n: 4096, pages: false } });
    expect(t.ops[7]).toMatchObject({ data: { size: { n: 2, pages: true }, byte: 0x11 } });
    expect(t.ops[9]).toMatchObject({ data: { size: { n: 4, pages: false } } });
  });

  it.each([
    ['spawn a\nfrobnicate a', 2, /unknown operation frobnicate/],
    ['write a r 0 "x"', 1, /no process a here \(spawn or fork it first/],
    ['spawn a\nspawn a', 2, /process a already exists/],
    ['spawn a\nexit a\nwrite a r 0 "x"', 3, /no process a here/],
    ['spawn a\nmmap a r 1p rw private\nmunmap a r\nread a r 0 1', 4, /process a has no region r here/],
    ['spawn a\nmmap a r 1p rwz private', 2, /protection must be letters of rwx or none, got rwz/],
    ['spawn a\nmmap a r 1p rw public', 2, /sharing must be private or shared, got public/],
    ['spawn a\nmmap a r lots rw private', 2, /lots is not a size/],
    ['spawn a\nmmap a r 0 rw private', 2, /a size must not be zero/],
    ['spawn a\nmmap a r 1p rw private object nope', 2, /no object nope here/],
    ['expect ENOMEM', 1, /expect must follow the operation/],
    ['spawn a\n\nmmap a r 1p rw private\n# c\nexpect EBOGUS', 5, /EBOGUS is not an errno/],
    ['spawn a\nexpect ENOMEM on vax', 2, /vax is not an architecture/],
    ['spawn a\nexpect ENOMEM at sv39', 2, /expect takes ERRNO \[on/],
    ['spawn a\nmmap a r 1p rw private\nwrite a r 0 "unterminated', 3, /unterminated string/],
    ['spawn a\nmmap a r 1p rw private\nwrite a r 0 1p 300', 3, /300 is not a byte/],
    ['spawn a\nfork a', 2, /fork takes PARENT CHILD, got a/],
    ['spawn 9a', 1, /process name 9a must be a letter/],
    ['release o', 1, /no object o here/],
  ])('%j: line %i is refused', (text, line, message) => {
    let err: unknown;
    try {
      parseTrace(text, 'bad.trace');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceErrors);
    const [first, ...rest] = (err as TraceErrors).errors;
    expect(rest).toEqual([]);
    expect(first).toBeInstanceOf(TraceError);
    expect(first.line).toBe(line);
    expect(first.message).toMatch(new RegExp(`^bad\\.trace:${line}: ${message.source}`));
  });

  it('reports every bad line in one pass, without refusing later lines for an earlier mistake', () => {
    const text = [
      'spawn a', // 1
      'mmap a heap 4p rw privat', // 2: bad sharing; heap still exists after it
      'expect ENOMEM', // 3: about the bad line: not reported again
      'write a heap 0 "ok"', // 4: fine (heap exists)
      'write a heap zero "x"', // 5: bad size
      'frobnicate', // 6: unknown operation
      'spawn 9b', // 7: bad name
      'read a heap 0 "ok"', // 8: fine
      'exit a', // 9
    ].join('\n');
    let err: unknown;
    try {
      parseTrace(text, 'many.trace');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TraceErrors);
    expect((err as TraceErrors).errors.map((e) => e.line)).toEqual([2, 5, 6, 7]);
    expect((err as TraceErrors).errors.map((e) => e.message.split(': ')[0])).toEqual(['many.trace:2', 'many.trace:5', 'many.trace:6', 'many.trace:7']);
  });

  it.each([
    ['spawn a\nmmap a heap 1p rw private\nwrite a heap hello', 3, '"hello"'],
    ['spawn a\nmmap a heap 1p rw private\nwrite a heap 0 hello world', 3, '"hello world"'],
    ['spawn a\nmmap a heap 1p rw private\nread a heap 0 hello', 3, '"hello"'],
    ['object o 1p hello', 1, '"hello"'],
    ['write 1 heap hello', 1, '"hello"'],
  ])('%j: an unquoted word where text goes gets a hint to quote it', (text, line, quoted) => {
    let err: unknown;
    try {
      parseTrace(text, 'hint.trace');
    } catch (e) {
      err = e;
    }
    const first = (err as TraceErrors).errors[0];
    expect(first.line).toBe(line);
    expect(first.message).toMatch(new RegExp(`; hint: quote text, ${quoted.replace(/"/g, '"')}$`));
  });

  it('gives no hint where no text goes, or where the text is quoted', () => {
    for (const text of ['spawn a\nmmap a heap 1p rw privat', 'spawn a\nmmap a heap 1p rw private\nwrite a heap zero "x"']) {
      let err: unknown;
      try {
        parseTrace(text, 'x.trace');
      } catch (e) {
        err = e;
      }
      expect((err as TraceErrors).errors[0].message).not.toContain('hint');
    }
  });
});

describe('vmlayers --trace', () => {
  it('refuses a bad line naming file and line, with status 2, before booting anything', () => {
    const path = file('spawn a\nmmap a heap 4p rw private\nwrite a heap 0 "ok"\nwrite a heap zero "bad"\nexit a\n');
    const r = run('--trace', path);
    expect(r.status).toBe(2);
    expect(r.err).toBe(`vmlayers: ${path}:4: zero is not a size (bytes, 16K, 1M, or pages: 3p)`);
    // Nothing ran: not even the boot step.
    expect(r.out).toBe('');
  });

  it('stops with status 1 at a line that does not replay as written', () => {
    const path = file('spawn a\nmmap a heap 1p r private\nwrite a heap 0 "no"\nexit a\n');
    const r = run('--trace', path);
    expect(r.status).toBe(1);
    expect(r.err).toMatch(new RegExp(`^vmlayers: ${path}:3: write a heap 0 "no": EACCES: .* \\(add "expect EACCES" after it if this is intended\\)$`));
    // With --json: the steps so far, then an error record on stdout; the same status.
    const j = run('--trace', path, '--json');
    expect(j.status).toBe(1);
    expect(j.err).toBe('');
    const last = JSON.parse(j.out.split('\n').at(-1)!);
    expect(last).toMatchObject({ type: 'error', code: 'EREPLAY', file: path, line: 3 });
    expect(last.message).toMatch(/^.*:3: write a heap 0 "no": EACCES: /);
    const expected = file('spawn a\nmmap a heap 1p r private\nwrite a heap 0 "no"\nexpect EFAULT\nexit a\n');
    expect(run('--trace', expected).err).toMatch(/:3: write a heap 0 "no": EACCES: .*; the trace expects EFAULT on sv39$/);
    const missing = file('spawn a\nexpect ENOMEM\n');
    expect(run('--trace', missing).err).toMatch(/:1: spawn a: expected ENOMEM on sv39, the operation succeeded/);
    const differs = file('spawn a\nmmap a heap 1p rw private\nread a heap 0 "x"\n');
    expect(run('--trace', differs).err).toMatch(/:3: read a heap 0 "x": read 00, the trace expects "x"$/);
  });

  it('reports every bad line, FILE:LINE each, with status 2 and nothing run (and as error records with --json)', () => {
    const path = file('spawn a\nmmap a heap 4p rw privat\nwrite a heap 0 hello\nfrobnicate\nexit a\n');
    const r = run('--trace', path);
    expect(r.status).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toEqual([
      `vmlayers: ${path}:2: sharing must be private or shared, got privat`,
      `vmlayers: ${path}:3: hello is not a size (bytes, 16K, 1M, or pages: 3p); hint: quote text, "hello"`,
      `vmlayers: ${path}:4: unknown operation frobnicate (spawn, fork, exit, object, release, mmap, munmap, mprotect, write, read, expect)`,
    ]);
    const j = run('--trace', path, '--json');
    expect(j.status).toBe(2);
    expect(j.err).toBe('');
    const records = j.out.split('\n').map((l) => JSON.parse(l));
    expect(records.map((x) => [x.type, x.code, x.file, x.line])).toEqual([
      ['error', 'ETRACE', path, 2],
      ['error', 'ETRACE', path, 3],
      ['error', 'ETRACE', path, 4],
    ]);
  });

  it('reports a missing file with status 2', () => {
    const r = run('--trace', '/nonexistent/x.trace');
    expect(r.status).toBe(2);
    expect(r.err).toMatch(/cannot read trace \/nonexistent\/x\.trace: ENOENT/);
  });
});
