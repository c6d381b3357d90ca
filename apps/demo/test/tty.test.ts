import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The CLI on a real pseudo-terminal: util-linux's `script` runs it with stdin, stdout and stderr on one pty and
// passes on every byte written there.
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasScript) console.warn('!!! test/tty.test.ts SKIPPED: no `script` command; install util-linux (apt-get install util-linux) to run it');

const demo = new URL('..', import.meta.url).pathname;
const COLUMNS = 60;

/** A trace long enough for progress to show: a process writing and reading its heap, `n` lines. */
function longTrace(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'vmlayers-tty-'));
  const lines = ['spawn p', 'mmap p heap 4p rw private'];
  for (let i = 0; lines.length < n - 1; i++) lines.push(i % 2 === 0 ? `write p heap ${i % 4}p "line ${i}"` : `read p heap ${(i - 1) % 4}p "line ${i - 1}"`);
  lines.push('exit p');
  const path = join(dir, 'long.trace');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Runs `command` on a pty `COLUMNS` wide; returns what the terminal received and the command's status. */
function onPty(command: string): { bytes: string; status: number | null } {
  const r = spawnSync('script', ['-qfec', `stty cols ${COLUMNS} rows 40; ${command}`, '/dev/null'], { cwd: demo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return { bytes: r.stdout, status: r.status };
}

const PROGRESS = 'replaying ';

/**
 * A tiny terminal: `\r`, `\n`, `ESC[K` (erase to the end of the line), wrapping at `width`; other CSI sequences and
 * control characters are ignored. Rows are never scrolled away. Every row is looked at when the cursor leaves it
 * (and all of them at the end): `mixed` collects rows that held progress and other text at once.
 */
function screen(bytes: string, width: number): { rows: string[]; mixed: string[] } {
  const rows: string[][] = [[]];
  const mixed: string[] = [];
  let r = 0;
  let c = 0;
  const row = () => (rows[r] ??= []);
  const look = () => {
    const text = row().join('').trimEnd();
    if (text.includes(PROGRESS) && !/^replaying \S+: \d+\/\d+ lines \(\d+ %\)$|^replaying .*…$/.test(text)) mixed.push(text);
  };
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i];
    if (ch === '\x1b') {
      if (bytes[i + 1] === '[') {
        let j = i + 2;
        while (j < bytes.length && !/[@-~]/.test(bytes[j])) j++;
        const param = bytes.slice(i + 2, j);
        if (bytes[j] === 'K' && (param === '' || param === '0')) row().length = Math.min(row().length, c);
        i = j;
      } else i++;
      continue;
    }
    if (ch === '\r') c = 0;
    else if (ch === '\n') {
      look();
      r++;
      row();
    } else if (ch >= ' ') {
      if (c >= width) {
        look();
        r++;
        c = 0;
      }
      const line = row();
      while (line.length < c) line.push(' ');
      line[c++] = ch;
    }
  }
  const out = rows.map((x) => (x ?? []).join('').trimEnd());
  for (r = 0; r < rows.length; r++) look();
  return { rows: out, mixed };
}

describe.runIf(hasScript)('progress on a terminal', () => {
  const trace = longTrace(800);

  it('never shares a screen line with the narration, and is gone at the end', () => {
    const { bytes, status } = onPty(`node --import tsx src/cli.ts --trace ${trace}`);
    expect(status).toBe(0);
    // It did show (and was redrawn as the replay went on).
    expect(bytes.split(PROGRESS).length).toBeGreaterThan(3);
    const { rows, mixed } = screen(bytes, COLUMNS);
    expect(mixed).toEqual([]);
    expect(rows.filter((l) => l.includes(PROGRESS))).toEqual([]);
    expect(rows.some((l) => l.includes('Every process exited: meminfo is back at its boot figures.'))).toBe(true);
  });

  it('is erased when the narration goes to a file, which holds no escape sequence', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'vmlayers-tty-')), 'out.txt');
    const { bytes, status } = onPty(`node --import tsx src/cli.ts --trace ${trace} > ${out}`);
    expect(status).toBe(0);
    expect(bytes).toContain(PROGRESS);
    const { rows, mixed } = screen(bytes, COLUMNS);
    expect(mixed).toEqual([]);
    expect(rows.filter((l) => l.includes(PROGRESS))).toEqual([]);
    const file = readFileSync(out, 'utf8');
    expect(file).not.toContain('\x1b');
    expect(file).toContain('Every process exited');
  });

  it('is erased before an error message', () => {
    const bad = longTrace(300).replace(/long\.trace$/, 'bad.trace');
    const lines = readFileSync(bad.replace(/bad\.trace$/, 'long.trace'), 'utf8').split('\n');
    lines.splice(200, 0, 'read p heap 0 "not what is there"');
    writeFileSync(bad, lines.join('\n'));
    const { bytes, status } = onPty(`node --import tsx src/cli.ts --trace ${bad}`);
    expect(status).toBe(1);
    const { rows, mixed } = screen(bytes, COLUMNS);
    expect(mixed).toEqual([]);
    expect(rows.filter((l) => l.includes(PROGRESS))).toEqual([]);
    expect(rows.some((l) => l.startsWith(`vmlayers: ${bad}:201:`))).toBe(true);
  });
});
