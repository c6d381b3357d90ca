import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { boards, isVmError } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { ARCHES, ARCH_NAMES } from './arches.js';
import { bytes, parseSize } from './format.js';
import { htmlReport } from './html-report.js';
import { jsonError, jsonHeader, jsonStep, prosePrinter } from './print.js';
import { niceSize, ramWorks, sizeFlag, smallestRam } from './ram.js';
import { ReplayError, replayTrace } from './replay.js';
import { runScenario } from './scenario.js';
import { capacity } from './capacity.js';
import type { Capacity } from './capacity.js';
import { Session } from './session.js';
import { COMPARE_FRAMES, CompareError, MAX_SWAP, POLICIES, compareText, comparePolicies, defaultSwap, reclaimFor } from './reclaim.js';
import type { PolicyName } from './reclaim.js';
import type { Step } from './step.js';
import { TraceErrors, parseTrace } from './trace.js';
import type { Trace } from './trace.js';
import { VERSION } from './version.js';

export const USAGE = `Usage: vmlayers [options]   (npx @vmlayers/demo [options])

Boots the vmlayers memory subsystem and narrates a scenario: two processes, anonymous memory, a program image
shared read-only, fork and copy-on-write, a shared page, mprotect and a protection fault, exit, and every frame
back. Without an MMU (armv7m, armv8m) fork is refused with ENOSYS and the processes share a common object instead.

Options:
  --arch NAME        ${ARCH_NAMES.join(' | ')} (default sv39)
  --board NAME       board preset (${boards.names().join(', ')}); default the architecture's
  --ram SIZE         a single RAM bank of SIZE bytes instead (e.g. 16M, 512k), a multiple of the page;
                     too small, it says the smallest round size that works
  --trace FILE       replay the workload in FILE instead of the scenario (format: apps/demo/README.md;
                     samples in apps/demo/traces/); vm.check() runs after every line
  --capacity         with --trace: replay the trace again and again, its exit lines skipped, until a line
                     fails (normally ENOMEM), and print how many of its processes the board held at once
                     (at most 1000 replays); no narration, vm.check() after replays 1, 2, 4…
  --swap PAGES       page reclaim and swap (MMU architectures): a swap device of PAGES slots (default 4 x
                     the pages the trace maps, at least 64)
  --policy NAME      the page-replacement policy: fifo | clock (default) | lru | opt (Belady's MIN: only
                     with --trace, the future being the rest of the trace); turns reclaim and swap on
  --frames N         at most N resident anonymous pages (a memory cgroup's limit); turns reclaim and swap on
  --compare-policies with --trace: replay it once per policy and --frames value (a list, default 3,4,5) on
                     fresh vms, quietly, and print a table of page faults (evictions) by policy and frames
  --json             one JSON object per line instead of prose: a header, one per step, errors too
  --html FILE        also write a self-contained report page to FILE: the frame map coloured by owner, each
                     process's map, one process's page-table tree (MPU regions without an MMU), the meminfo
                     timeline as charts
  -V, --version      the version of @vmlayers/demo
  -h, --help         this text

Exit status: 0 on success; 2 on bad usage: an unknown flag, a bad flag value (--ram too small included), a
bad trace line (every one, FILE:LINE on stderr); 1 when the subsystem reports an error or a trace does not replay
as written.`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Progress of a long replay (the CLI gives one only when stderr is a terminal). */
  progress?: (label: string) => ((done: number, total: number) => void) | undefined;
}

/** A failure `main` reports: its `--json` code, the message, the exit status, and a trace line when there is one. */
class Failure {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly status: 1 | 2,
    readonly where?: { file: string; line: number },
  ) {}
}

const usage = (message: string) => new Failure('EUSAGE', message, 2);

/** Runs the demo CLI with `argv` (without node and script); returns the exit status. */
export function main(argv: string[], io: Io): number {
  const json = argv.includes('--json');
  const report = (failures: Failure[]): number => {
    for (const f of failures) {
      if (json) io.out(jsonError(f.code, f.message, f.where));
      else io.err(`vmlayers: ${f.message}`);
    }
    return failures[0].status;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        arch: { type: 'string', default: 'sv39' },
        board: { type: 'string' },
        ram: { type: 'string' },
        trace: { type: 'string' },
        capacity: { type: 'boolean', default: false },
        swap: { type: 'string' },
        policy: { type: 'string' },
        frames: { type: 'string' },
        'compare-policies': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'V', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    const status = report([usage(`${(e as Error).message}`)]);
    if (!json) io.err('Try --help.');
    return status;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.version) {
    io.out(`vmlayers ${VERSION}`);
    return 0;
  }
  try {
    const prepared = prepare(values);
    if ('compare' in prepared) {
      const { trace, arch, compare: c } = prepared;
      if (values.json) io.out(jsonHeader(VERSION, arch.name, c.board));
      let results;
      try {
        results = comparePolicies(trace, { arch, board: values.board, ramSize: c.ramSize, swap: c.swap }, c.frames);
      } catch (e) {
        if (!(e instanceof CompareError)) throw e;
        const cause = e.cause;
        if (cause instanceof ReplayError) throw new Failure('EREPLAY', `${e.message}`, 1, { file: cause.file, line: cause.line });
        throw new Failure(isVmError(cause) ? cause.code : 'EREPLAY', e.message, 1);
      }
      if (values.json) io.out(JSON.stringify({ type: 'compare', file: trace.file, swap: c.swap, frames: c.frames, policies: [...POLICIES], results }));
      else {
        const head = `Page faults (evictions) replaying ${trace.file} on ${arch.name} (${c.board}), ${c.swap} swap slots, by policy and resident frames:`;
        for (const l of compareText(results, c.frames, head)) io.out(l);
      }
      return 0;
    }
    const { session, trace } = prepared;
    const arch = session.arch;
    const steps: Step[] = [];
    const print = prosePrinter(session.vm.board, arch.pageSize, io.out);
    if (values.json) io.out(jsonHeader(VERSION, arch.name, session.vm.board.name));
    if (values.capacity) {
      const c = capacity(trace!, session, MAX_COPIES);
      if (values.json) io.out(JSON.stringify({ type: 'capacity', file: trace!.file, ...c }));
      else io.out(capacityText(c, trace!.file, arch.name, session.vm.board.name));
      return 0;
    }
    session.onStep((s) => {
      if (values.html !== undefined) steps.push(s);
      if (values.json) io.out(jsonStep(s));
      else print(s);
    });
    try {
      if (trace !== undefined) replayTrace(trace, session, io.progress?.(trace.file));
      else runScenario(session);
    } catch (e) {
      if (e instanceof ReplayError) throw new Failure('EREPLAY', e.message, 1, { file: e.file, line: e.line });
      if (isVmError(e)) throw new Failure(e.code, e.message, 1);
      throw e;
    }
    if (values.html !== undefined) {
      const what = trace === undefined ? 'the scenario' : trace.file;
      try {
        writeFileSync(values.html, htmlReport(session, steps, `vmlayers: ${what} on ${arch.name}`));
      } catch (e) {
        throw new Failure('EIO', `cannot write ${values.html}: ${(e as Error).message}`, 1);
      }
      if (!values.json) io.out(`Report written to ${values.html}.`);
    }
    return 0;
  } catch (e) {
    if (e instanceof Failure) return report([e]);
    if (e instanceof TraceErrors) return report(e.errors.map((t) => new Failure('ETRACE', t.message, 2, { file: t.file, line: t.line })));
    throw e;
  }
}

/** The most replays `--capacity` runs (a board with an MMU holds thousands of small processes). */
const MAX_COPIES = 1000;

function capacityText(c: Capacity, file: string, arch: string, board: string): string {
  const held = `${board} (${arch}) held ${c.processes} process${c.processes === 1 ? '' : 'es'} of ${file} at once: ${c.copies} whole replay${c.copies === 1 ? '' : 's'} of its ${c.perCopy}`;
  if (c.stop === null) return c.perCopy === 0 ? `${file} leaves no process alive (every one exits or fails): nothing to count.` : `${held}, and the limit of ${MAX_COPIES} replays was reached first.`;
  return `${held}; replay ${c.stop.copy} stopped at line ${c.stop.line} with ${c.stop.code}:\n  ${c.stop.message}`;
}

interface Values {
  arch: string;
  swap?: string;
  policy?: string;
  frames?: string;
  'compare-policies'?: boolean;
  capacity?: boolean;
  board?: string;
  ram?: string;
  trace?: string;
  html?: string;
}

/**
 * Every flag value checked, the trace read and parsed, and the vm booted, before anything runs or prints: a bad
 * value is a usage error (status 2) in the flag's terms. With `--ram` the run is tried quietly first, and a size
 * too small for it is reported with the smallest size that works, rounded up to a round figure.
 */
function prepare(values: Values): { session: Session; trace?: Trace } | { trace: Trace; arch: PmapFactory; compare: { frames: number[]; swap: number; board: string; ramSize?: number } } {
  const arch = Object.prototype.hasOwnProperty.call(ARCHES, values.arch) ? ARCHES[values.arch] : undefined;
  if (arch === undefined) throw usage(`--arch ${values.arch} is not an architecture (${ARCH_NAMES.join(', ')})`);
  if (values.board !== undefined && values.ram !== undefined) throw usage('give --board or --ram, not both');
  if (values.board !== undefined && !boards.names().includes(values.board)) {
    throw usage(`--board ${values.board} is not a board (${boards.names().join(', ')})`);
  }
  let ramSize: number | undefined;
  if (values.ram !== undefined) {
    ramSize = parseSize(values.ram);
    if (!Number.isSafeInteger(ramSize) || ramSize <= 0) throw usage(`--ram ${values.ram} is not a size (try 64M)`);
    if (ramSize % arch.pageSize !== 0) throw usage(`--ram must be a multiple of ${bytes(arch.pageSize)} on ${arch.name}, got ${values.ram}`);
  }
  if (values.capacity && values.trace === undefined) throw usage('--capacity needs --trace FILE');
  if (values.capacity && values.html !== undefined) throw usage('give --capacity or --html, not both');
  if (values.html !== undefined) checkWritable(values.html);
  const reclaim = reclaimFlags(values, arch);
  let trace: Trace | undefined;
  if (values.trace !== undefined) {
    let text: string;
    try {
      text = readFileSync(values.trace, 'utf8');
    } catch (e) {
      throw usage(`cannot read trace ${values.trace}: ${(e as Error).message}`);
    }
    // The whole file is parsed and checked before the vm boots: a bad line changes nothing.
    trace = parseTrace(text, values.trace);
  }
  if (ramSize !== undefined) {
    const scenario = trace === undefined;
    const tried = ramWorks(arch, ramSize, scenario);
    if (!tried.ok) {
      const min = smallestRam(arch, ramSize, scenario);
      if (min !== null) {
        throw usage(`${bytes(ramSize)} is too small ${scenario ? 'for the scenario on' : 'to boot'} ${arch.name}; try ${sizeFlag(niceSize(min, arch.pageSize))}`);
      }
    }
  }
  if (reclaim.compare) {
    // The board checked by booting it once (as a plain run would), then every replay boots its own vm.
    const probe = bootOrUsage(() => new Session({ arch, board: values.board, ramSize }), values, arch);
    const swap = reclaim.swap ?? defaultSwap(trace, arch.pageSize);
    return { trace: trace!, arch, compare: { frames: reclaim.frames ?? COMPARE_FRAMES, swap, board: probe.vm.board.name, ramSize } };
  }
  let session: Session | undefined;
  const on = reclaim.swap !== undefined || reclaim.policy !== undefined || reclaim.frames !== undefined;
  const options = on
    ? {
        swap: reclaim.swap ?? defaultSwap(trace, arch.pageSize),
        ...(reclaim.policy !== undefined || reclaim.frames !== undefined
          ? { reclaim: reclaimFor(reclaim.policy, reclaim.frames?.[0], trace, () => session, arch.pageSize) }
          : {}),
      }
    : {};
  session = bootOrUsage(() => new Session({ arch, board: values.board, ramSize, ...options }), values, arch);
  return { session, trace };
}

/** Boots a session; a board this architecture cannot boot on (or a refused `--ram`) is a usage error. */
function bootOrUsage(boot: () => Session, values: Values, arch: PmapFactory): Session {
  try {
    return boot();
  } catch (e) {
    // The board exists but this architecture cannot boot on it (or --ram is refused for another reason).
    if (isVmError(e)) {
      const why = e.message.replace(/^E[A-Z]+: board \S+ cannot be used by \S+: /, '');
      throw usage(values.board !== undefined ? `--board ${values.board} cannot be used with --arch ${arch.name}: ${why}` : e.message);
    }
    throw e;
  }
}

/** A whole number from 1 to `max` written in decimal digits, or undefined. */
function count(text: string, max: number): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= max ? n : undefined;
}

/** The most frames `--frames` takes (a limit past any board's RAM means no limit). */
const MAX_FRAMES = 1 << 30;

/**
 * `--swap`, `--policy`, `--frames` and `--compare-policies` checked in their own terms: reclaim needs an MMU,
 * `opt` and `--compare-policies` a trace, `--frames` one number (a list with `--compare-policies`).
 */
function reclaimFlags(values: Values, arch: PmapFactory): { swap?: number; policy?: PolicyName; frames?: number[]; compare: boolean } {
  const compare = values['compare-policies'] === true;
  const given = (['swap', 'policy', 'frames'] as const).filter((f) => values[f] !== undefined).map((f) => `--${f}`);
  if (compare) given.unshift('--compare-policies');
  if (given.length === 0) return { compare };
  if (!arch.capabilities.hasMmu) throw usage(`${given.join(', ')}: reclaim needs an MMU, and ${arch.name} has none (try --arch sv39 or ia32)`);
  let swap: number | undefined;
  if (values.swap !== undefined) {
    swap = count(values.swap, MAX_SWAP);
    if (swap === undefined) throw usage(`--swap ${values.swap} is not a number of swap slots (pages: a whole number from 1 to ${MAX_SWAP})`);
  }
  let policy: PolicyName | undefined;
  if (values.policy !== undefined) {
    if (!(POLICIES as readonly string[]).includes(values.policy)) throw usage(`--policy ${values.policy} is not a policy (${POLICIES.join(', ')})`);
    policy = values.policy as PolicyName;
    if (policy === 'opt' && values.trace === undefined) throw usage('--policy opt needs --trace FILE: its future is the rest of the trace');
  }
  let frames: number[] | undefined;
  if (values.frames !== undefined) {
    const parts = values.frames.split(',');
    frames = parts.map((t) => count(t.trim(), MAX_FRAMES)).filter((n): n is number => n !== undefined);
    if (frames.length !== parts.length) {
      throw usage(`--frames ${values.frames} is not ${compare ? 'a list of numbers of frames (3,4,5)' : 'a number of frames (a whole number from 1)'}`);
    }
    if (!compare && frames.length > 1) throw usage(`--frames ${values.frames}: one number of frames (a list only with --compare-policies)`);
    frames = [...new Set(frames)];
  }
  if (compare) {
    if (values.trace === undefined) throw usage('--compare-policies needs --trace FILE');
    if (policy !== undefined) throw usage('give --policy or --compare-policies, not both (it tries every policy)');
    if (values.capacity) throw usage('give --capacity or --compare-policies, not both');
    if (values.html !== undefined) throw usage('give --compare-policies or --html, not both');
  }
  return { swap, policy, frames, compare };
}

/** `--html FILE`: its directory must exist and be writable, and FILE must not be a directory. */
function checkWritable(file: string): void {
  const dir = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw usage(`--html ${file}: directory ${dir} does not exist`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw usage(`--html ${file}: directory ${dir} is not writable`);
  }
  try {
    if (statSync(file).isDirectory()) throw usage(`--html ${file} is a directory`);
  } catch (e) {
    if (e instanceof Failure) throw e;
  }
}
