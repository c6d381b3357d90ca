import { main } from './main.js';
import { StatusLine, ttyProgress } from './progress.js';

// `vmlayers | head` closes the pipe early: stop quietly, as a Unix tool does.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Progress lives on stderr when it is a terminal. Narration on the same terminal erases it first and redraws it
// after (TTY writes are synchronous, so the order holds); an error message erases it for good.
const status = process.stderr.isTTY ? new StatusLine(process.stderr, () => process.stderr.columns) : null;
const toStdout = (line: string) => void process.stdout.write(`${line}\n`);

process.exitCode = main(process.argv.slice(2), {
  out: status !== null && process.stdout.isTTY ? (line) => status.around(() => toStdout(line)) : toStdout,
  err: (line) => {
    status?.clear();
    process.stderr.write(`${line}\n`);
  },
  progress: (label) => (status !== null ? ttyProgress(status, label) : undefined),
});
status?.clear();
