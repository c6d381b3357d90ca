import { formatPerms } from '@vmlayers/mapper';
import type { BoardMemoryMap } from '@vmlayers/phys';
import { meminfoLine } from './format.js';
import { MARKER_MEANINGS, legendLines } from './page-map.js';
import type { Step } from './step.js';

/** Version of the `--json` records' layout: raised when a field changes meaning or goes away. */
export const JSON_SCHEMA = 'vmlayers-demo/1';

/**
 * A printer of steps as prose: title, what happened and why, the one-line meminfo summary (`/proc/meminfo` in full
 * at the first and last step), `/proc/<pid>/maps` of the processes whose map changed, and the page map where it
 * changed, with a legend for each marker the first time it shows.
 */
export function prosePrinter(board: BoardMemoryMap, pageSize: number, out: (line: string) => void): (s: Step) => void {
  const explained = new Set<string>();
  return (s) => {
    if (s.step === 'line') {
      // A trace line: what it did and its events; the figures come in the summary.
      out(`${String(s.index).padStart(4)}  ${s.title}`);
      for (const t of s.text) out(`        ${t}`);
      return;
    }
    out(`== ${s.index}. ${s.title}`);
    for (const t of s.text) out(t);
    out(meminfoLine(s.meminfo, pageSize, board));
    if (s.step === 'boot' || s.step === 'end') {
      out('/proc/meminfo:');
      out(s.meminfoText.trimEnd());
    }
    for (const pid of s.mapsChanged) {
      const text = s.mapsText[pid];
      out(`/proc/${pid}/maps:${text === '' ? ' (empty)' : ''}`);
      if (text !== '') out(text.trimEnd());
    }
    if (s.pageMapChanged) {
      out(s.pageMap);
      const fresh = Object.keys(MARKER_MEANINGS).filter((m) => s.frames[m] && !explained.has(m));
      if (fresh.length > 0) {
        out(explained.size === 0 ? 'page map: one character a frame, [NX] N frames of X in a row:' : 'new in the page map:');
        for (const line of legendLines(fresh)) out(line);
        for (const m of fresh) explained.add(m);
      }
    }
    out('');
  };
}

/** The first `--json` record: what the steps that follow come from. */
export function jsonHeader(version: string, arch: string, board: string): string {
  return JSON.stringify({ type: 'header', schema: JSON_SCHEMA, version, arch, board });
}

/** A step as one JSON line (`--json`); map records carry `perms` (`rw-p`) beside the raw `prot` and `flags`. */
export function jsonStep(s: Step): string {
  const maps: Record<number, unknown[]> = {};
  for (const [pid, list] of Object.entries(s.maps)) maps[Number(pid)] = list.map((m) => ({ ...m, perms: formatPerms(m.prot, m.flags) }));
  return JSON.stringify({
    type: 'step',
    index: s.index,
    step: s.step,
    title: s.title,
    text: s.text,
    figures: s.figures,
    ...(s.error ? { error: s.error } : {}),
    events: s.events,
    meminfo: s.meminfo,
    pageMap: s.pageMap,
    maps,
  });
}

/** An error as a `--json` record (on stdout; the exit status is the same as without `--json`). */
export function jsonError(code: string, message: string, where?: { file: string; line: number }): string {
  return JSON.stringify({ type: 'error', code, message, ...(where ?? {}) });
}
