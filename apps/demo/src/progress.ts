/** Where progress goes: a terminal's stderr. */
export interface ProgressStream {
  write(text: string): unknown;
}

/** Replays shorter than this finish before progress would be worth reading. */
const MIN_LINES = 100;

const ERASE = '\r\x1b[K';

/**
 * The one status line at the bottom of a terminal. Anything else written to the terminal goes through
 * {@link StatusLine.around} (or follows {@link StatusLine.clear}), so a screen line never holds the status and other
 * text: the line is erased first, at the cursor's line, and drawn again below what was written.
 */
export class StatusLine {
  private text = '';

  /**
   * `columns`: the terminal's width now (it may change), when known: the line is cut to fit, since a line that
   * wrapped would leave its first part on screen when erased.
   */
  constructor(
    private readonly stream: ProgressStream,
    private readonly columns: () => number | undefined = () => undefined,
  ) {}

  /** Draws `text` in place of the line shown. */
  show(text: string): void {
    const width = this.columns();
    this.text = width !== undefined && width > 1 && text.length >= width ? `${text.slice(0, width - 2)}…` : text;
    this.stream.write(`${ERASE}${this.text}`);
  }

  /** Erases the line (it is not drawn again until the next {@link StatusLine.show}). */
  clear(): void {
    if (this.text !== '') this.stream.write(ERASE);
    this.text = '';
  }

  /** Runs `write` (which prints whole lines to the same terminal) with the line erased, then draws it again. */
  around(write: () => void): void {
    const t = this.text;
    if (t !== '') this.stream.write(ERASE);
    write();
    if (t !== '') this.stream.write(t);
  }
}

/**
 * A progress reporter for long replays on a terminal: `replaying FILE: done/total lines (pct %)` on `line`, redrawn
 * at most every `intervalMs`, erased when the replay ends. Only for a TTY: the CLI passes one only when
 * `process.stderr.isTTY`.
 */
export function ttyProgress(line: StatusLine, label: string, intervalMs = 100, now: () => number = Date.now): (done: number, total: number) => void {
  let last = -Infinity;
  return (done, total) => {
    if (total < MIN_LINES) return;
    if (done >= total) {
      line.clear();
      return;
    }
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    line.show(`replaying ${label}: ${done}/${total} lines (${Math.floor((done * 100) / total)} %)`);
  };
}
