import { isVmError } from '@vmlayers/phys';
import type { PmapFactory } from '@vmlayers/phys';
import { opt } from '@vmlayers/memobj';
import type { ReclaimPolicy } from '@vmlayers/memobj';
import { ReplayError, replayTrace } from './replay.js';
import { Session } from './session.js';
import { bytesOf } from './trace.js';
import type { Trace } from './trace.js';

/** The policies `--policy` takes; `opt` only with `--trace` (its future is the rest of the trace). */
export const POLICIES = ['fifo', 'clock', 'lru', 'opt'] as const;
export type PolicyName = (typeof POLICIES)[number];

/** The frames `--compare-policies` tries when `--frames` is not given. */
export const COMPARE_FRAMES = [3, 4, 5];

/** The most swap slots memobj takes (2^24). */
export const MAX_SWAP = 1 << 24;

/** The fewest swap slots the demo gives when `--swap` is not given. */
const MIN_SWAP = 64;

/**
 * Swap slots when `--swap` is not given: 4 × the pages the trace's `mmap` lines map in all (every page could be
 * out at once, with room to spare), at least 64 (the scenario maps a handful of pages).
 */
export function defaultSwap(trace: Trace | undefined, pageSize: number): number {
  let pages = 0;
  for (const op of trace?.ops ?? []) if (op.op === 'mmap') pages += Math.ceil(bytesOf(op.size, pageSize) / pageSize);
  return Math.min(MAX_SWAP, Math.max(MIN_SWAP, 4 * pages));
}

/**
 * Belady's MIN for a trace: `opt(nextUse)` where `nextUse(pa)` finds the page's processes and virtual addresses
 * through the reverse map (`vm.kmap.rmap.mappings(pa)`), their names in the replay under way (`session.cursor`),
 * and returns the index of the next trace line — the one under way included — that reads or writes a range
 * covering the page, or Infinity (none, or its process exits first). Regions are taken at the address their name
 * has now.
 */
export function optForTrace(trace: Trace, session: () => Session | undefined, pageSize: number): ReclaimPolicy {
  const enc = new TextEncoder();
  // Each read/write line's range in its region, in bytes.
  const ranges = trace.ops.map((op) => {
    if (op.op !== 'read' && op.op !== 'write') return null;
    const len = 'text' in op.data ? enc.encode(op.data.text).length : bytesOf(op.data.size, pageSize);
    return { offset: bytesOf(op.offset, pageSize), len };
  });
  return opt((pa) => {
    const s = session();
    const cursor = s?.cursor;
    if (s === undefined || cursor == null) return Infinity;
    let best = Infinity;
    for (const m of s.vm.kmap.rmap?.mappings(pa) ?? []) {
      for (const [name, p] of cursor.procs) {
        if (p === null || p.exited || p.pid !== m.map.owner) continue;
        const regions = cursor.regions.get(name);
        for (let j = cursor.pos; j < Math.min(best, trace.ops.length); j++) {
          const op = trace.ops[j];
          if (op.op === 'exit' && op.proc === name) break;
          const r = ranges[j];
          if (r === null || !('proc' in op) || op.proc !== name || !('region' in op)) continue;
          const reg = regions?.get(op.region);
          if (reg == null) continue;
          const start = reg.addr + r.offset;
          if (start < m.va + pageSize && start + r.len > m.va && r.len > 0) {
            best = j;
            break;
          }
        }
      }
    }
    return best;
  });
}

/** The reclaim options of a session: the policy by name (`opt` made for the trace) and the resident limit. */
export function reclaimFor(policy: PolicyName | undefined, frames: number | undefined, trace: Trace | undefined, session: () => Session | undefined, pageSize: number): { policy?: string | ReclaimPolicy; limit?: number } {
  return {
    ...(policy === 'opt' ? { policy: optForTrace(trace!, session, pageSize) } : policy !== undefined ? { policy } : {}),
    ...(frames !== undefined ? { limit: frames } : {}),
  };
}

/** One replay of `--compare-policies`. */
export interface CompareResult {
  policy: PolicyName;
  frames: number;
  /** Page faults served (`fault` events without a `result`). */
  faults: number;
  /** Pages evicted, written to swap and read back (`meminfo().reclaim`). */
  evictions: number;
  swapOuts: number;
  swapIns: number;
}

/** A replay under one policy and limit that did not replay as written (or that the subsystem failed). */
export class CompareError extends Error {
  constructor(
    readonly policy: PolicyName,
    readonly frames: number,
    override readonly cause: unknown,
  ) {
    super(`with --policy ${policy} --frames ${frames}: ${(cause as Error).message}`);
  }
}

/**
 * Replays the trace once per (policy, frames) on a fresh vm, quietly (`Session.quiet`: no narration; `vm.check()`
 * at the end of each replay), and counts its page faults and what reclaim did.
 */
export function comparePolicies(trace: Trace, options: { arch: PmapFactory; board?: string; ramSize?: number; swap: number }, frames: number[]): CompareResult[] {
  const out: CompareResult[] = [];
  for (const policy of POLICIES) {
    for (const n of frames) {
      let session: Session | undefined;
      try {
        session = new Session({ ...options, reclaim: reclaimFor(policy, n, trace, () => session, options.arch.pageSize) });
        session.quiet = true;
        replayTrace(trace, session);
        session.vm.check();
      } catch (e) {
        if (e instanceof ReplayError || isVmError(e)) throw new CompareError(policy, n, e);
        throw e;
      }
      const r = session.vm.meminfo().reclaim!;
      out.push({ policy, frames: n, faults: session.faults, evictions: r.evictions, swapOuts: r.swapOuts, swapIns: r.swapIns });
    }
  }
  return out;
}

/** The `--compare-policies` table: page faults (evictions) by policy and frames, and any Belady anomaly seen. */
export function compareText(results: CompareResult[], frames: number[], head: string): string[] {
  const cell = (r: CompareResult) => `${r.faults} (${r.evictions})`;
  const cols = frames.map((n) => `${n} frame${n === 1 ? '' : 's'}`);
  const rows = POLICIES.map((p) => [p, ...frames.map((n) => cell(results.find((r) => r.policy === p && r.frames === n)!))]);
  const widths = [6, ...cols.map((c, k) => Math.max(c.length, ...rows.map((r) => r[k + 1].length)))];
  const line = (cells: string[]) => cells.map((c, k) => (k === 0 ? c.padEnd(widths[0]) : c.padStart(widths[k]))).join('  ').trimEnd();
  const out = [head, line(['policy', ...cols]), ...rows.map(line)];
  for (const p of POLICIES) {
    const mine = frames.map((n) => results.find((r) => r.policy === p && r.frames === n)!);
    for (let a = 0; a < mine.length; a++) {
      for (let b = 0; b < mine.length; b++) {
        if (mine[b].frames > mine[a].frames && mine[b].faults > mine[a].faults) {
          out.push(`Belady's anomaly: ${p} faults ${mine[b].faults} times with ${mine[b].frames} frames, ${mine[a].faults} with ${mine[a].frames}: more memory, more faults.`);
        }
      }
    }
  }
  return out;
}
