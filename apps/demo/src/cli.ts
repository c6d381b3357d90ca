import { main } from './main.js';
import { ttyProgress } from './progress.js';

// `vmlayers | head` closes the pipe early: stop quietly, as a Unix tool does.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = main(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  progress: (label) => (process.stderr.isTTY ? ttyProgress(process.stderr, label) : undefined),
});
