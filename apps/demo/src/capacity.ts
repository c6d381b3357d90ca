import { ReplayError, replayTrace } from './replay.js';
import type { Session } from './session.js';
import type { Trace } from './trace.js';

/** What {@link capacity} measured. */
export interface Capacity {
  /** Processes alive when the run stopped: the board held this many at once. */
  processes: number;
  /** Whole replays of the trace that completed. */
  copies: number;
  /** Processes one whole replay leaves alive (its `exit` lines skipped). */
  perCopy: number;
  /** The line of the replay that stopped the run and its error; null when `maxCopies` was reached first. */
  stop: { copy: number; line: number; code: string; message: string } | null;
}

/**
 * How many processes of a trace the session's board holds at once: the trace is replayed again and again on the
 * same vm with its `exit` lines skipped (every other line as written, its `expect`s included), so each replay
 * adds its processes, until a line fails where the trace does not expect it — normally `ENOMEM` — or `maxCopies`
 * replays have run. A board-sizing question an embedded engineer asks ("how many of these tasks fit in 512 KiB?"),
 * answered by the real allocators. `vm.check()` runs after replays 1, 2, 4, 8… and where the run stops (not after
 * every line: with thousands of processes that would cost O(n²)).
 */
export function capacity(trace: Trace, session: Session, maxCopies: number): Capacity {
  const kept: Trace = { file: trace.file, ops: trace.ops.filter((op) => op.op !== 'exit') };
  let copies = 0;
  let perCopy = 0;
  let stop: Capacity['stop'] = null;
  session.quiet = true;
  while (copies < maxCopies) {
    const before = session.vm.processes().length;
    try {
      replayTrace(kept, session);
    } catch (e) {
      if (!(e instanceof ReplayError)) throw e;
      session.vm.check();
      stop = { copy: copies + 1, line: e.line, code: e.code ?? 'EREPLAY', message: e.message };
      break;
    }
    perCopy = session.vm.processes().length - before;
    copies++;
    // After replays 1, 2, 4, 8…: the checks cost O(processes) each, O(total) all together.
    if ((copies & (copies - 1)) === 0) session.vm.check();
    // A trace that leaves no process alive never fills the board.
    if (perCopy === 0) break;
  }
  if (stop === null) session.vm.check();
  return { processes: session.vm.processes().length, copies, perCopy, stop };
}
