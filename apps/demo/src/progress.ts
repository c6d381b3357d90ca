/** Where progress goes: a terminal's stderr. */
export interface ProgressStream {
  write(text: string): unknown;
}

/** Replays shorter than this finish before progress would be worth reading. */
const MIN_LINES = 100;

/**
 * A progress reporter for long replays on a terminal: `replaying FILE: done/total lines (pct %)`, redrawn in place
 * at most every `intervalMs`, erased when the replay ends. Only for a TTY: the CLI passes one only when
 * `process.stderr.isTTY`.
 */
export function ttyProgress(stream: ProgressStream, label: string, intervalMs = 100, now: () => number = Date.now): (done: number, total: number) => void {
  let last = -Infinity;
  let shown = false;
  return (done, total) => {
    if (total < MIN_LINES) return;
    if (done >= total) {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
      return;
    }
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    shown = true;
    stream.write(`\r\x1b[Kreplaying ${label}: ${done}/${total} lines (${Math.floor((done * 100) / total)} %)`);
  };
}
