import { ERRNO_NAMES } from '@vmlayers/phys';
import type { Errno } from '@vmlayers/phys';
import { ARCH_NAMES } from './arches.js';

/**
 * A workload as text, one operation a line, replayed by `vmlayers --trace FILE`. Processes, regions and
 * objects have names, not addresses or pids, so one trace replays on every architecture; sizes may be given in
 * pages. The whole file is parsed and checked before anything runs.
 *
 * ```
 * # comment (also after an operation); blank lines are ignored
 * spawn P                                   a new process P
 * fork P C                                  C: a copy-on-write child of P
 * exit P
 * object O SIZE ["TEXT"]                    a memory object of SIZE bytes starting with TEXT (the trace holds it)
 * release O                                 drops the trace's reference (mappings keep the object alive)
 * mmap P R SIZE PROT private|shared [object O [OFFSET]]     region R of P: anonymous memory, or O from OFFSET
 * munmap P R [OFFSET SIZE]                  all of R, or part of it
 * mprotect P R OFFSET SIZE PROT
 * write P R OFFSET "TEXT"                   the bytes of TEXT
 * write P R OFFSET SIZE [BYTE]              SIZE bytes of BYTE (default 0xa5), 64 KiB at a time
 * read P R OFFSET "TEXT"                    reads and checks the bytes are TEXT
 * read P R OFFSET SIZE [BYTE]               reads SIZE bytes (and checks each is BYTE when given)
 * expect ERRNO [on ARCH,…|mmu|nommu]        the operation before must fail with ERRNO (there); more lines may follow
 * ```
 *
 * SIZE and OFFSET: bytes (`4096`, `16K`, `1M`) or pages of the architecture (`3p`). PROT: letters of `rwx`, or
 * `none`. TEXT: a JSON string. An operation whose name is absent because the line that makes it failed as
 * expected (a fork refused without an MMU, an mmap refused with ENOMEM) is skipped.
 */
export interface Trace {
  file: string;
  ops: TraceOp[];
}

/** A size or offset: bytes, or pages of the architecture. */
export interface Amount {
  n: number;
  pages: boolean;
}

export type TraceOp = { line: number; source: string; expect: Expectation[] } & (
  | { op: 'spawn'; proc: string }
  | { op: 'fork'; proc: string; child: string }
  | { op: 'exit'; proc: string }
  | { op: 'object'; object: string; size: Amount; text?: string }
  | { op: 'release'; object: string }
  | { op: 'mmap'; proc: string; region: string; size: Amount; prot: number; shared: boolean; object?: string; offset?: Amount }
  | { op: 'munmap'; proc: string; region: string; offset?: Amount; size?: Amount }
  | { op: 'mprotect'; proc: string; region: string; offset: Amount; size: Amount; prot: number }
  | { op: 'write'; proc: string; region: string; offset: Amount; data: Data }
  | { op: 'read'; proc: string; region: string; offset: Amount; data: Data }
);

/** What a write writes or a read checks: text, or a size filled with a byte (a read may check nothing). */
export type Data = { text: string } | { size: Amount; byte?: number };

/** `expect ERRNO [on …]`: the errno, and the architectures it applies to (all when absent). */
export interface Expectation {
  errno: Errno;
  /** Architecture names, or `mmu` / `nommu`. */
  on?: string[];
}

/** A bad trace: `file:line: what is wrong`. Thrown before anything runs. */
export class TraceError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'TraceError';
  }
}

/** Every bad line of a trace, found in one pass (each a {@link TraceError}, in line order). */
export class TraceErrors extends Error {
  constructor(readonly errors: readonly TraceError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'TraceErrors';
  }
}

const NAME = /^[A-Za-z_][\w.-]*$/;
const PROT_LETTERS = { r: 1, w: 2, x: 4 } as const;

/** Splits a line into words and JSON strings, dropping a trailing comment. */
function tokenize(text: string, at: (msg: string) => TraceError): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw at('unterminated string');
      out.push(text.slice(i, j + 1));
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !' \t"#'.includes(text[j])) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

/**
 * Parses and checks a trace: syntax, sizes, protections, errno and architecture names, and that every process,
 * region and object is made before it is used and not used after it is gone. Every line is checked: throws
 * {@link TraceErrors} with one {@link TraceError} (file, line, what is wrong) per bad line. A bad line that names a
 * new process, region or object still makes the name, so the lines after it are not refused for its sake.
 */
export function parseTrace(text: string, file: string): Trace {
  const ops: TraceOp[] = [];
  // What exists at each point, to refuse uses of names never made or already gone.
  const procs = new Map<string, Map<string, Amount>>();
  const objects = new Set<string>();
  const lines = text.split(/\r?\n/);
  const errors: TraceError[] = [];
  // The last bad operation line: its expect lines are not refused for following nothing.
  let lastBad = 0;
  for (let n = 1; n <= lines.length; n++) {
    let words: string[] = [];
    try {
      words = tokenize(lines[n - 1].trim(), (msg) => new TraceError(file, n, msg));
      parseLine(n, words);
    } catch (e) {
      if (!(e instanceof TraceError)) throw e;
      errors.push(e);
      if (words[0] !== 'expect') lastBad = n;
      recover(words);
    }
  }
  if (errors.length > 0) throw new TraceErrors(errors);
  return { file, ops };

  // After a bad line: the names it would have made exist, so later lines are judged on their own.
  function recover(words: string[]): void {
    const [verb, a, b] = words;
    const ok = (w: string | undefined): w is string => w !== undefined && NAME.test(w);
    if (verb === 'spawn' && ok(a) && !procs.has(a)) procs.set(a, new Map());
    if (verb === 'fork' && ok(b) && !procs.has(b)) procs.set(b, new Map(ok(a) ? procs.get(a) : undefined));
    if (verb === 'mmap' && ok(a) && ok(b)) procs.get(a)?.set(b, { n: 1, pages: true });
    if (verb === 'object' && ok(a)) objects.add(a);
  }

  function parseLine(n: number, words: string[]): void {
    const source = lines[n - 1].trim();
    const hint = textHint(words);
    const bad = (msg: string) => new TraceError(file, n, hint === undefined ? msg : `${msg}; hint: quote text, ${hint}`);
    if (words.length === 0) return;
    const [verb, ...args] = words;
    const arity = (min: number, max: number, usage: string) => {
      if (args.length < min || args.length > max) throw bad(`${verb} takes ${usage}, got ${args.length === 0 ? 'nothing' : args.join(' ')}`);
    };
    const name = (w: string, what: string) => {
      if (!NAME.test(w)) throw bad(`${what} name ${w} must be a letter or _ followed by letters, digits, _ . -`);
      return w;
    };
    const proc = (w: string) => {
      name(w, 'process');
      const regions = procs.get(w);
      if (regions === undefined) throw bad(`no process ${w} here (spawn or fork it first; exited processes are gone)`);
      return regions;
    };
    const region = (p: string, r: string) => {
      const size = proc(p).get(name(r, 'region'));
      if (size === undefined) throw bad(`process ${p} has no region ${r} here (mmap it first)`);
      return r;
    };
    const newProc = (w: string) => {
      if (procs.has(name(w, 'process'))) throw bad(`process ${w} already exists`);
      return w;
    };
    if (verb === 'expect') {
      arity(1, 3, 'ERRNO [on ARCH,…|mmu|nommu]');
      const last = ops[ops.length - 1];
      if (lastBad > (last?.line ?? 0) && isPrevious(lines, lastBad, n)) return;
      if (last === undefined || !isPrevious(lines, last.line, n)) throw bad('expect must follow the operation it is about (or another expect)');
      const errno = args[0] as Errno;
      if (!ERRNO_NAMES.includes(errno)) throw bad(`${args[0]} is not an errno (${ERRNO_NAMES.join(', ')})`);
      const e: Expectation = { errno };
      if (args.length > 1) {
        if (args[1] !== 'on' || args.length !== 3) throw bad(`expect takes ERRNO [on ARCH,…|mmu|nommu], got ${args.join(' ')}`);
        e.on = args[2].split(',');
        for (const a of e.on) {
          if (a !== 'mmu' && a !== 'nommu' && !ARCH_NAMES.includes(a)) throw bad(`${a} is not an architecture (${ARCH_NAMES.join(', ')}, mmu, nommu)`);
        }
      }
      last.expect.push(e);
      return;
    }
    const base = { line: n, source, expect: [] as Expectation[] };
    switch (verb) {
      case 'spawn':
        arity(1, 1, 'a process name');
        procs.set(newProc(args[0]), new Map());
        ops.push({ ...base, op: 'spawn', proc: args[0] });
        break;
      case 'fork': {
        arity(2, 2, 'PARENT CHILD');
        const regions = proc(args[0]);
        procs.set(newProc(args[1]), new Map(regions));
        ops.push({ ...base, op: 'fork', proc: args[0], child: args[1] });
        break;
      }
      case 'exit':
        arity(1, 1, 'a process name');
        proc(args[0]);
        procs.delete(args[0]);
        ops.push({ ...base, op: 'exit', proc: args[0] });
        break;
      case 'object': {
        arity(2, 3, 'NAME SIZE ["TEXT"]');
        if (objects.has(name(args[0], 'object'))) throw bad(`object ${args[0]} already exists`);
        const size = amount(args[1], bad, false);
        const text = args[2] === undefined ? undefined : string(args[2], bad);
        objects.add(args[0]);
        ops.push({ ...base, op: 'object', object: args[0], size, ...(text === undefined ? {} : { text }) });
        break;
      }
      case 'release':
        arity(1, 1, 'an object name');
        if (!objects.has(name(args[0], 'object'))) throw bad(`no object ${args[0]} here`);
        objects.delete(args[0]);
        ops.push({ ...base, op: 'release', object: args[0] });
        break;
      case 'mmap': {
        arity(5, 8, 'PROC REGION SIZE PROT private|shared [object O [OFFSET]]');
        const regions = proc(args[0]);
        if (regions.has(name(args[1], 'region'))) throw bad(`process ${args[0]} already has a region ${args[1]}`);
        const size = amount(args[2], bad, false);
        const prot = protection(args[3], bad);
        if (args[4] !== 'private' && args[4] !== 'shared') throw bad(`sharing must be private or shared, got ${args[4]}`);
        let object: string | undefined;
        let offset: Amount | undefined;
        if (args.length > 5) {
          if (args[5] !== 'object' || args.length < 7) throw bad(`after ${args[4]} comes object NAME [OFFSET], got ${args.slice(5).join(' ')}`);
          object = args[6];
          if (!objects.has(name(object, 'object'))) throw bad(`no object ${object} here (make it with object, and map it before release)`);
          if (args[7] !== undefined) offset = amount(args[7], bad, true);
        }
        regions.set(args[1], size);
        ops.push({ ...base, op: 'mmap', proc: args[0], region: args[1], size, prot, shared: args[4] === 'shared', ...(object ? { object } : {}), ...(offset ? { offset } : {}) });
        break;
      }
      case 'munmap': {
        if (args.length !== 2 && args.length !== 4) throw bad(`munmap takes PROC REGION [OFFSET SIZE], got ${args.join(' ') || 'nothing'}`);
        region(args[0], args[1]);
        if (args.length === 2) {
          procs.get(args[0])!.delete(args[1]);
          ops.push({ ...base, op: 'munmap', proc: args[0], region: args[1] });
        } else {
          ops.push({ ...base, op: 'munmap', proc: args[0], region: args[1], offset: amount(args[2], bad, true), size: amount(args[3], bad, false) });
        }
        break;
      }
      case 'mprotect':
        arity(5, 5, 'PROC REGION OFFSET SIZE PROT');
        region(args[0], args[1]);
        ops.push({ ...base, op: 'mprotect', proc: args[0], region: args[1], offset: amount(args[2], bad, true), size: amount(args[3], bad, false), prot: protection(args[4], bad) });
        break;
      case 'write':
      case 'read': {
        arity(4, 5, `PROC REGION OFFSET "TEXT" | PROC REGION OFFSET SIZE [BYTE]`);
        region(args[0], args[1]);
        const offset = amount(args[2], bad, true);
        let data: Data;
        if (args[3].startsWith('"')) {
          if (args.length > 4) throw bad(`nothing may follow the text, got ${args[4]}`);
          data = { text: string(args[3], bad) };
          if (data.text.length === 0) throw bad('the text is empty');
        } else {
          const size = amount(args[3], bad, false);
          const byte = args[4] === undefined ? (verb === 'write' ? 0xa5 : undefined) : byteValue(args[4], bad);
          data = byte === undefined ? { size } : { size, byte };
        }
        ops.push({ ...base, op: verb, proc: args[0], region: args[1], offset, data });
        break;
      }
      default:
        throw bad(`unknown operation ${verb} (spawn, fork, exit, object, release, mmap, munmap, mprotect, write, read, expect)`);
    }
  }
}

/**
 * Where a line has an unquoted word where text goes (`write P R OFFSET hello`, `object O SIZE hello`), the words
 * from there on as the JSON string they should be; undefined when the line has none.
 */
function textHint(words: string[]): string | undefined {
  const [verb] = words;
  // write/read: the words after PROC REGION that are neither a size nor a byte; object: the one after NAME SIZE.
  const from = verb === 'write' || verb === 'read' ? 3 : verb === 'object' ? 3 : -1;
  if (from < 0) return undefined;
  const at = words.findIndex((w, i) => i >= from && /^[A-Za-z_]/.test(w) && !w.startsWith('"') && !/^0x[0-9a-f]+$/i.test(w));
  if (at < 0 || words.some((w) => w.startsWith('"'))) return undefined;
  return JSON.stringify(words.slice(at).join(' '));
}

// True when only blank, comment or expect lines lie between the operation's line and line `n`.
function isPrevious(lines: string[], opLine: number, n: number): boolean {
  for (let k = opLine + 1; k < n; k++) {
    const t = lines[k - 1].trim();
    if (t !== '' && !t.startsWith('#') && !/^expect\s/.test(t)) return false;
  }
  return true;
}

function amount(w: string, bad: (m: string) => TraceError, zeroOk: boolean): Amount {
  const m = /^(\d+)([kKmMgG]|p)?$/.exec(w);
  const n = m ? Number(m[1]) * (m[2] === undefined || m[2] === 'p' ? 1 : 1024 ** ('kmg'.indexOf(m[2].toLowerCase()) + 1)) : NaN;
  if (!Number.isSafeInteger(n)) throw bad(`${w} is not a size (bytes, 16K, 1M, or pages: 3p)`);
  if (n === 0 && !zeroOk) throw bad(`a size must not be zero, got ${w}`);
  return { n, pages: m![2] === 'p' };
}

function protection(w: string, bad: (m: string) => TraceError): number {
  if (w === 'none') return 0;
  let prot = 0;
  for (const c of w) {
    const bit = PROT_LETTERS[c as keyof typeof PROT_LETTERS];
    if (bit === undefined || prot & bit) throw bad(`protection must be letters of rwx or none, got ${w}`);
    prot |= bit;
  }
  return prot;
}

function string(w: string, bad: (m: string) => TraceError): string {
  try {
    const s: unknown = JSON.parse(w);
    if (typeof s === 'string') return s;
  } catch {
    // reported below
  }
  throw bad(`${w} is not a valid string`);
}

function byteValue(w: string, bad: (m: string) => TraceError): number {
  const n = /^(0x[0-9a-fA-F]+|\d+)$/.test(w) ? Number(w) : NaN;
  if (!(n >= 0 && n <= 255)) throw bad(`${w} is not a byte (0..255 or 0x00..0xff)`);
  return n;
}

/** Bytes of an amount on an architecture with pages of `pageSize`. */
export function bytesOf(a: Amount, pageSize: number): number {
  return a.pages ? a.n * pageSize : a.n;
}

/** Whether an expectation applies on the architecture `arch` (with or without an MMU). */
export function expectationApplies(e: Expectation, arch: string, hasMmu: boolean): boolean {
  return e.on === undefined || e.on.some((a) => a === arch || (a === 'mmu' && hasMmu) || (a === 'nommu' && !hasMmu));
}

