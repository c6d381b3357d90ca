import type { PmapFactory } from '@vmlayers/phys';
import { mapLine, meminfoLine } from './format.js';
import type { Step } from './step.js';

/** A step as prose: title, what happened and why, meminfo, the maps and the page map where they changed. */
export function printStep(s: Step, arch: PmapFactory, out: (line: string) => void): void {
  if (s.step === 'line') {
    // A trace line: what it did and its events; the figures come in the summary.
    out(`${String(s.index).padStart(4)}  ${s.title}`);
    for (const t of s.text) out(`        ${t}`);
    return;
  }
  out(`== ${s.index}. ${s.title}`);
  for (const t of s.text) out(t);
  out(meminfoLine(s.meminfo, arch.pageSize));
  for (const pid of s.mapsChanged) {
    const maps = s.maps[pid];
    out(`maps of pid ${pid}:${maps.length === 0 ? ' (empty)' : ''}`);
    for (const m of maps) out(`  ${mapLine(m)}`);
  }
  if (s.pageMapChanged) out(s.pageMap);
  out('');
}

/** A step as one JSON line (`--json`). */
export function jsonStep(s: Step): string {
  return JSON.stringify({
    index: s.index,
    step: s.step,
    title: s.title,
    text: s.text,
    figures: s.figures,
    ...(s.error ? { error: s.error } : {}),
    events: s.events,
    meminfo: s.meminfo,
    pageMap: s.pageMap,
    maps: s.maps,
  });
}
