import type { MapInfo, MemInfo, VmEvent } from '@vmlayers/memobj';

/** A figure a step reports: what tests check and `--json` prints. */
export type Figure = number | string | boolean | null;

/** One step of the scenario or one line of a trace, as it is printed (prose) or emitted (`--json`). */
export interface Step {
  /** 1-based position in the run. */
  index: number;
  /** A short id: `boot`, `spawn`, `anon`, …, or `line` for a trace line. */
  step: string;
  title: string;
  /** What happened and why, in plain words; the event narration included. */
  text: string[];
  /** The `onEvent` events of this step, as the vm sent them. */
  events: VmEvent[];
  meminfo: MemInfo;
  /** `formatMeminfo(vm)`: meminfo in `/proc/meminfo`'s layout. */
  meminfoText: string;
  /** The page map as the original prints it, holes between banks written as their size (`pageMapText`). */
  pageMap: string;
  /** Frames of each page-map marker (`B`, `P`, `H`, `A`, `.`, …; `x` for holes). */
  frames: Record<string, number>;
  pageMapChanged: boolean;
  /** The map of every live process, by pid. */
  maps: Record<number, MapInfo[]>;
  /** `formatMaps(vm, pid)` of every live process: `/proc/<pid>/maps` lines. */
  mapsText: Record<number, string>;
  /** The pids whose map changed in this step (the prose shows those). */
  mapsChanged: number[];
  figures: Record<string, Figure>;
  /** An error the step caught and reported (fork refused, a protection fault, an expected ENOMEM). */
  error?: { code: string; message: string };
}
