import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { VmError, boards, isVmError } from '@vmlayers/phys';
import { ARCHES, ARCH_NAMES } from './arches.js';
import { parseSize } from './format.js';
import { htmlReport } from './html-report.js';
import { jsonStep, printStep } from './print.js';
import type { Step } from './step.js';
import { ReplayError, replayTrace } from './replay.js';
import { runScenario } from './scenario.js';
import { TraceError, parseTrace } from './trace.js';
import { VERSION } from './version.js';

export const USAGE = `Usage: vmlayers [options]   (npx @vmlayers/demo [options])

Boots the vmlayers memory subsystem and narrates a scenario: two processes, anonymous memory, a program image
shared read-only, fork and copy-on-write, a shared page, mprotect and a protection fault, exit, and every frame
back. Without an MMU (armv7m) fork is refused with ENOSYS and the processes share a common object instead.

Options:
  --arch NAME        ${ARCH_NAMES.join(' | ')} (default sv39)
  --board NAME       board preset (${boards.names().join(', ')}); default the architecture's
  --ram SIZE         a single RAM bank of SIZE bytes instead (e.g. 16M, 512k)
  --trace FILE       replay the workload in FILE instead of the scenario (format: apps/demo/README.md;
                     samples in apps/demo/traces/); vm.check() runs after every line
  --json             one JSON object per step instead of prose
  --html FILE        also write a self-contained report page to FILE: the frame map coloured by owner, each
                     process's map, one process's page-table tree, the meminfo timeline as a chart
  -V, --version      the version of @vmlayers/demo
  -h, --help         this text

Exit status: 0 on success, 2 on bad usage (a bad trace line included: FILE:LINE on stderr), 1 when the
subsystem reports an error or a trace does not replay as written.`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Progress of a long replay (the CLI gives one only when stderr is a terminal). */
  progress?: (label: string) => ((done: number, total: number) => void) | undefined;
}

/** Runs the demo CLI with `argv` (without node and script); returns the exit status. */
export function main(argv: string[], io: Io): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        arch: { type: 'string', default: 'sv39' },
        board: { type: 'string' },
        ram: { type: 'string' },
        trace: { type: 'string' },
        json: { type: 'boolean', default: false },
        html: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'V', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(`vmlayers: ${(e as Error).message}`);
    io.err('Try --help.');
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.version) {
    io.out(`vmlayers ${VERSION}`);
    return 0;
  }
  const arch = Object.prototype.hasOwnProperty.call(ARCHES, values.arch) ? ARCHES[values.arch] : undefined;
  if (arch === undefined) {
    io.err(`vmlayers: --arch ${values.arch} is not an architecture (${ARCH_NAMES.join(', ')})`);
    return 2;
  }
  if (values.board !== undefined && values.ram !== undefined) {
    io.err('vmlayers: give --board or --ram, not both');
    return 2;
  }
  try {
    let ramSize: number | undefined;
    if (values.ram !== undefined) {
      ramSize = parseSize(values.ram);
      if (!Number.isSafeInteger(ramSize) || ramSize <= 0) throw new VmError('EINVAL', `--ram ${values.ram} is not a size (try 64M)`);
    }
    const options = { arch, board: values.board, ramSize };
    const steps: Step[] = [];
    const emit = (s: Step) => {
      if (values.html !== undefined) steps.push(s);
      if (values.json) io.out(jsonStep(s));
      else printStep(s, arch, io.out);
    };
    let session;
    if (values.trace !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.trace, 'utf8');
      } catch (e) {
        io.err(`vmlayers: cannot read trace ${values.trace}: ${(e as Error).message}`);
        return 2;
      }
      // The whole file is parsed and checked before the vm boots: a bad line changes nothing.
      const trace = parseTrace(text, values.trace);
      session = replayTrace(trace, options, emit, io.progress?.(values.trace));
    } else {
      session = runScenario(options, emit);
    }
    if (values.html !== undefined) {
      const what = values.trace === undefined ? 'the scenario' : values.trace;
      try {
        writeFileSync(values.html, htmlReport(session, steps, `vmlayers: ${what} on ${arch.name}`));
      } catch (e) {
        io.err(`vmlayers: cannot write ${values.html}: ${(e as Error).message}`);
        return 1;
      }
      if (!values.json) io.out(`Report written to ${values.html}.`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ReplayError) {
      io.err(`vmlayers: ${e.message}`);
      return 1;
    }
    if (e instanceof TraceError) {
      io.err(`vmlayers: ${e.message}`);
      return 2;
    }
    if (isVmError(e)) {
      io.err(`vmlayers: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
