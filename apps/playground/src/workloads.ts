import type { Workload } from './run.js';

// The demo's sample traces, bundled at build time: the page reads no file and makes no request at run time.
const files = import.meta.glob('../../demo/traces/*.trace', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/** A workload the menu offers. */
export interface WorkloadChoice {
  id: string;
  label: string;
  workload: Workload;
}

/** The scenario first, then each sample trace by name. */
export const WORKLOADS: readonly WorkloadChoice[] = [
  { id: 'scenario', label: 'The demo scenario (fork, copy-on-write, exit)', workload: { kind: 'scenario' } },
  ...Object.entries(files)
    .map(([path, text]) => {
      const file = path.slice(path.lastIndexOf('/') + 1);
      return { id: file, label: `Trace ${file}`, workload: { kind: 'trace', file, text } as Workload };
    })
    .sort((a, b) => a.id.localeCompare(b.id)),
];
