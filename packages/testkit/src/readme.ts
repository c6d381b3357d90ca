import { readFileSync } from 'node:fs';

/**
 * True when the README at `readme` shows the file at `example` verbatim as a ```ts block: package READMEs keep
 * their example in a file a test runs, and this keeps the two from drifting apart.
 */
export function readmeShows(readme: URL, example: URL): boolean {
  return readFileSync(readme, 'utf8').includes('```ts\n' + readFileSync(example, 'utf8') + '```');
}

/** Runs `load` (typically `() => import('../examples/basic.js')`) and returns what it logged, one array per call. */
export async function captureLog(load: () => Promise<unknown>): Promise<unknown[][]> {
  const lines: unknown[][] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args);
  try {
    await load();
  } finally {
    console.log = log;
  }
  return lines;
}
