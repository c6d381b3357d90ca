import { MapFlags } from '@vmlayers/phys';
import type { Process, ReclaimStats, VmObject } from '@vmlayers/memobj';
import { addr, bytes, meminfoLine, shown } from './format.js';
import { bootStep } from './scenario.js';
import { attempt } from './session.js';
import type { Session } from './session.js';
import type { Figure, Step } from './step.js';
import { TraceError, bytesOf, expectationApplies } from './trace.js';
import type { Data, Trace, TraceOp } from './trace.js';

/** A trace that did not replay as written: an unexpected error, an expected one missing, or a read that differs. */
export class ReplayError extends TraceError {
  constructor(
    file: string,
    line: number,
    message: string,
    /** The errno of the error the subsystem raised, when a line failed where the trace expects no error. */
    readonly code?: string,
  ) {
    super(file, line, message);
    this.name = 'ReplayError';
  }
}

/** Fill writes go in pieces of this many bytes, so a huge one costs no huge buffer. */
const FILL_CHUNK = 64 * 1024;

interface Region {
  addr: number;
  size: number;
}

/** Replays a parsed trace ({@link traceSteps}) to its end and returns the session. */
export function replayTrace(trace: Trace, session: Session, progress?: (done: number, total: number) => void): Session {
  for (const _ of traceSteps(trace, session, progress));
  return session;
}

/**
 * Replays a parsed trace on the session's freshly booted vm: one step per line, `vm.check()` after each (in
 * `Session.step`), an error a line expects reported and replay going on, any other outcome stopping it with a
 * {@link ReplayError}. Names whose making failed as expected are absent, and lines using them are skipped. Ends with
 * a summary step comparing meminfo with boot. Processes get the trace's names in `session.names`. Yields each step
 * as it ends, so a caller can stop between lines with the vm in exactly that line's state.
 */
export function* traceSteps(trace: Trace, session: Session, progress?: (done: number, total: number) => void): Generator<Step | null, void, undefined> {
  const { vm, arch } = session;
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;
  yield* bootStep(session);
  const boot = vm.meminfo();
  // null: the line that makes it failed as expected.
  const procs = new Map<string, Process | null>();
  const regions = new Map<string, Map<string, Region | null>>();
  const objects = new Map<string, VmObject | null>();
  let skipped = 0;
  let expected = 0;
  session.cursor = { pos: 0, procs, regions };
  const enc = new TextEncoder();

  const fail = (op: TraceOp, msg: string, code?: string) => new ReplayError(trace.file, op.line, `${op.source}: ${msg}`, code);
  const dataBytes = (d: Data): number => ('text' in d ? enc.encode(d.text).length : bytesOf(d.size, ps));

  for (let i = 0; i < trace.ops.length; i++) {
    const op = trace.ops[i];
    session.cursor!.pos = i;
    // Which names the line needs and whether each exists.
    const absent: string[] = [];
    if ('proc' in op && procs.get(op.proc) === null) absent.push(`process ${op.proc}`);
    if ('region' in op && !absent.length && regions.get(op.proc)?.get(op.region) === null) absent.push(`region ${op.region} of ${op.proc}`);
    if (op.op === 'mmap' && op.object !== undefined && objects.get(op.object) === null) absent.push(`object ${op.object}`);
    if (absent.length > 0) {
      skipped++;
      if (op.op === 'fork') procs.set(op.child, null), regions.set(op.child, new Map());
      if (op.op === 'mmap') regions.get(op.proc)?.set(op.region, null);
      if (op.op === 'exit') procs.delete(op.proc);
      const skip = session.step({ step: 'line', title: `${trace.file}:${op.line}  ${op.source}`, what: [`skipped: ${absent[0]} does not exist (the line that makes it failed as expected).`], figures: { line: op.line, skipped: true } });
      progress?.(i + 1, trace.ops.length);
      yield skip;
      continue;
    }
    const p = 'proc' in op ? procs.get(op.proc)! : null;
    const reg = 'region' in op ? regions.get(op.proc)!.get(op.region)! : null;
    const at = (o: { n: number; pages: boolean }) => reg!.addr + bytesOf(o, ps);
    let result = '';
    const figures: Record<string, Figure> = { line: op.line };
    const outcome = attempt((): void => {
      switch (op.op) {
        case 'spawn': {
          const np = vm.spawn();
          procs.set(op.proc, np);
          regions.set(op.proc, new Map());
          session.names.set(np.pid, op.proc);
          result = `${op.proc} is pid ${np.pid}`;
          figures.pid = np.pid;
          break;
        }
        case 'fork': {
          const c = p!.fork();
          procs.set(op.child, c);
          regions.set(op.child, new Map(regions.get(op.proc)));
          session.names.set(c.pid, op.child);
          result = `${op.child} is pid ${c.pid}, a copy-on-write child of pid ${p!.pid}`;
          figures.pid = c.pid;
          break;
        }
        case 'exit':
          p!.exit();
          procs.delete(op.proc);
          regions.delete(op.proc);
          result = `pid ${p!.pid} is gone`;
          break;
        case 'object': {
          const size = bytesOf(op.size, ps);
          const init = new Uint8Array(size);
          if (op.text !== undefined) init.set(enc.encode(op.text).subarray(0, size));
          objects.set(op.object, vm.createObject(init));
          result = `object ${op.object} of ${bytes(size)}`;
          break;
        }
        case 'release':
          objects.get(op.object)!.release();
          objects.delete(op.object);
          result = `the trace's reference to ${op.object} is dropped`;
          break;
        case 'mmap': {
          const size = bytesOf(op.size, ps);
          const object = op.object === undefined ? undefined : objects.get(op.object)!;
          const va = p!.mmap({
            size,
            prot: op.prot,
            flags: op.shared ? MapFlags.SHARED : MapFlags.PRIVATE,
            ...(object ? { object, offset: op.offset === undefined ? 0 : bytesOf(op.offset, ps) } : {}),
          });
          regions.get(op.proc)!.set(op.region, { addr: va, size });
          result = `${op.region} is ${addr(va)}-${addr(va + size)}`;
          figures.addr = va;
          break;
        }
        case 'munmap':
          if (op.offset === undefined) {
            p!.munmap(reg!.addr, reg!.size);
            regions.get(op.proc)!.delete(op.region);
          } else p!.munmap(at(op.offset), bytesOf(op.size!, ps));
          result = 'unmapped';
          break;
        case 'mprotect':
          p!.mprotect(at(op.offset), bytesOf(op.size, ps), op.prot);
          result = `protection of ${addr(at(op.offset))}+${bytes(bytesOf(op.size, ps))} changed`;
          break;
        case 'write': {
          const va = at(op.offset);
          if ('text' in op.data) p!.write(va, enc.encode(op.data.text));
          else {
            const total = bytesOf(op.data.size, ps);
            const chunk = new Uint8Array(Math.min(total, FILL_CHUNK)).fill(op.data.byte ?? 0xa5);
            for (let done = 0; done < total; done += chunk.length) p!.write(va + done, chunk.subarray(0, Math.min(chunk.length, total - done)));
          }
          result = `${bytes(dataBytes(op.data))} written at ${addr(va)}`;
          break;
        }
        case 'read': {
          const va = at(op.offset);
          const got = p!.read(va, dataBytes(op.data));
          result = `read ${shown(got)} at ${addr(va)}`;
          figures.read = got.length <= 64 ? new TextDecoder().decode(got) : `${got.length} bytes`;
          if ('text' in op.data) {
            const want = enc.encode(op.data.text);
            if (got.some((b, k) => b !== want[k])) throw fail(op, `read ${shown(got)}, the trace expects ${JSON.stringify(op.data.text)}`);
          } else if (op.data.byte !== undefined) {
            const k = got.findIndex((b) => b !== (op.data as { byte: number }).byte);
            if (k >= 0) throw fail(op, `byte ${k} reads 0x${got[k].toString(16)}, the trace expects 0x${op.data.byte.toString(16)}`);
          }
          break;
        }
      }
    });
    const wanted = op.expect.filter((e) => expectationApplies(e, arch.name, mmu)).map((e) => e.errno);
    let error: { code: string; message: string } | undefined;
    if (outcome.ok) {
      if (wanted.length > 0) throw fail(op, `expected ${wanted.join(' or ')} on ${arch.name}, the operation succeeded (${result})`);
    } else {
      if (wanted.length === 0) throw fail(op, `${outcome.message} (add "expect ${outcome.code}" after it if this is intended)`, outcome.code);
      if (!wanted.includes(outcome.code as never)) throw fail(op, `${outcome.message}; the trace expects ${wanted.join(' or ')} on ${arch.name}`);
      expected++;
      error = { code: outcome.code, message: outcome.message };
      result = `failed as expected: ${outcome.message}`;
      figures.errno = outcome.code;
      // What the line would have made does not exist: lines using it are skipped.
      if (op.op === 'spawn') procs.set(op.proc, null), regions.set(op.proc, new Map());
      if (op.op === 'fork') procs.set(op.child, null), regions.set(op.child, new Map());
      if (op.op === 'object') objects.set(op.object, null);
      if (op.op === 'mmap') regions.get(op.proc)!.set(op.region, null);
    }
    const done = session.step({ step: 'line', title: `${trace.file}:${op.line}  ${op.source}`, what: [`${result}.`], figures, ...(error ? { error } : {}) });
    progress?.(i + 1, trace.ops.length);
    yield done;
  }

  session.cursor = null;
  const end = vm.meminfo();
  const live = vm.processes();
  const same = end.page.free === boot.page.free && end.kmalloc.used === boot.kmalloc.used && end.map.entries === boot.map.entries;
  yield session.step({
    step: 'end',
    title: `${trace.file}: replayed on ${arch.name}`,
    what: [
      `${trace.ops.length} operations: ${trace.ops.length - skipped - expected} done, ${expected} failed as the trace expects, ${skipped} skipped; vm.check() passed after every line.`,
      live.length > 0
        ? `Still running: pid ${live.map((q) => q.pid).join(', ')}; memory comes back when they exit.`
        : same
          ? 'Every process exited: meminfo is back at its boot figures.'
          : `Every process exited, but meminfo differs from boot (${meminfoLine(boot, ps, vm.board)}).`,
      ...(end.reclaim ? [reclaimLine(end.reclaim, session.faults)] : []),
    ],
    figures: {
      lines: trace.ops.length,
      done: trace.ops.length - skipped - expected,
      expected,
      skipped,
      live: live.length,
      backToBoot: same,
      ...(end.reclaim ? { faults: session.faults, evictions: end.reclaim.evictions, swapOuts: end.reclaim.swapOuts, swapIns: end.reclaim.swapIns } : {}),
    },
  });
}

/** The end step's sentence on reclaim: the policy, the limit, and what it did. */
function reclaimLine(r: ReclaimStats, faults: number): string {
  const limit = r.limit === null ? 'no resident limit' : `at most ${r.limit} resident anonymous page${r.limit === 1 ? '' : 's'}`;
  return `Reclaim (${r.policy}, ${limit}): ${faults} page fault${faults === 1 ? '' : 's'}, ${r.evictions} page${r.evictions === 1 ? '' : 's'} evicted, ${r.swapOuts} written to swap, ${r.swapIns} read back (major faults).`;
}
