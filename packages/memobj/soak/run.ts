/*
 * The whole-stack soak (issue 12 §4): the model driver of test/stack-model.test.ts for a million operations (or
 * `--ops N`) per architecture, spread over the architecture's default board and its tiny boards, each without and
 * with injected failures. Each run keeps one vm for epochs of `--epoch` steps; every epoch ends with every process
 * exited and every object released, and free frames and kmalloc bytes must equal their post-boot values exactly.
 * `vm.check()` and a full comparison of every process's maps with the model run every `--check-every` steps;
 * every step compares the outcome (value or errno) of its operation, the maps of the processes it touched and two
 * sampled pages with the model.
 *
 *   node --import tsx soak/run.ts [--ops N] [--seed S] [--arch sv39|ia32|armv7m|all] [--check-every K] [--epoch E]
 *   (or SOAK_OPS, SOAK_SEED, SOAK_ARCH, SOAK_CHECK_EVERY, SOAK_EPOCH)
 *
 * A mismatch, a broken invariant or a leak is reported with its seed, board, step and last operations; the run then
 * goes on with a fresh vm (and the next seed), and the soak exits with status 1.
 */
import { ia32, sv39 } from '@vmlayers/pmap-mmu';
import { armv7m } from '@vmlayers/pmap-nommu';
import type { PmapFactory } from '@vmlayers/phys';
import { ModelFailure, StackDriver, addStats, boardsFor, emptyStats } from '../test/stack-model/driver.js';
import type { BoardConfig, DriverStats } from '../test/stack-model/driver.js';

const ARCHS: Record<string, PmapFactory> = { sv39, ia32, armv7m };

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (eq !== undefined) return eq.slice(name.length + 3);
  return process.env[`SOAK_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
}

function count(name: string, fallback: number): number {
  const v = Number(option(name, String(fallback)).replace(/_/g, ''));
  if (!Number.isSafeInteger(v) || v <= 0) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
  return v;
}

const OPS = count('ops', 1_000_000);
const SEED = count('seed', 1);
const CHECK_EVERY = count('check-every', 1_000);
const EPOCH = count('epoch', 20_000);
const archArg = option('arch', 'all');
const archs = archArg === 'all' ? Object.values(ARCHS) : archArg.split(',').map((a) => ARCHS[a]);
if (archs.some((a) => a === undefined)) {
  console.error(`--arch must be one of ${Object.keys(ARCHS).join(', ')} or all`);
  process.exit(2);
}

const fmt = (n: number): string => n.toLocaleString('en-US');

interface Finding {
  where: string;
  message: string;
}

interface Tally extends DriverStats {
  leaks: Finding[];
  defects: Finding[];
}

/** `ops` steps on `board`, in epochs; after a finding the rest runs on a fresh vm with the next seed. */
function soakRun(arch: PmapFactory, board: BoardConfig, faults: boolean, seed: number, ops: number, t: Tally): void {
  let done = 0;
  for (let s = seed; done < ops; s += 1000) {
    const d = new StackDriver({ arch, board, seed: s, faults, checkEvery: CHECK_EVERY, samples: 2 });
    const where = `${arch.name}, board ${board.label}, faults ${faults ? 'on' : 'off'}, seed ${s}`;
    try {
      while (done + d.stats.ops < ops) {
        const n = Math.min(EPOCH, ops - done - d.stats.ops);
        for (let i = 0; i < n; i++) d.step();
        const leaks = d.drain();
        if (leaks.length > 0) {
          t.leaks.push({ where: `${where}, epoch ${d.stats.epochs} (step ${d.stats.ops})`, message: leaks.join('; ') });
          break;
        }
      }
    } catch (e) {
      t.defects.push({ where, message: e instanceof ModelFailure ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
    done += d.stats.ops;
    addStats(t, d.stats);
  }
}

function report(arch: PmapFactory, t: Tally, seconds: number, runs: string[]): void {
  const line = (k: string, v: string): void => console.log(`  ${k.padEnd(26)} ${v}`);
  console.log(`\n${arch.name}: ${fmt(t.ops)} operations in ${seconds.toFixed(1)} s (${fmt(Math.round(t.ops / seconds))}/s)`);
  line('runs', runs.join('; '));
  const refused = Object.entries(t.refused).sort((a, b) => b[1] - a[1]);
  line('refused by errno', refused.map(([k, v]) => `${k} ${fmt(v)}`).join(', ') + ` (total ${fmt(refused.reduce((a, [, v]) => a + v, 0))})`);
  line('  of which out of memory', `${fmt(t.outOfMemory)} ENOMEM where memory ran out (natural or injected)`);
  const by = Object.entries(t.firedBy).sort((a, b) => b[1] - a[1]);
  line('injected faults survived', `${fmt(t.injectedFired)} (${by.map(([k, v]) => `${k} ${fmt(v)}`).join(', ')})`);
  line('processes', `${fmt(t.spawned)} spawned, ${fmt(t.forked)} forked, ${fmt(t.exited)} exited before an epoch's end`);
  line('partial writes', `${fmt(t.partialWrites)} multi-page writes kept pages after ENOMEM`);
  line('checks', `${fmt(t.checks)} vm.check() + full maps comparisons, ${fmt(t.epochs)} epochs`);
  line(
    'conservation',
    t.leaks.length === 0
      ? `exact after all ${fmt(t.epochs)} completed epochs (free frames and kmalloc bytes = post-boot, vm.check() passes)`
      : `BROKEN in ${t.leaks.length} epochs`,
  );
  line('leaks found', String(t.leaks.length));
  for (const l of t.leaks) console.log(`    ${l.where}: ${l.message}`);
  line('defects found', String(t.defects.length));
  for (const d of t.defects) console.log(`    ${d.where}:\n      ${d.message.split('\n').join('\n      ')}`);
}

console.log(
  `memobj soak: ${fmt(OPS)} operations per architecture, seed ${SEED}, epochs of ${fmt(EPOCH)} steps, ` +
    `vm.check() every ${fmt(CHECK_EVERY)} steps, node ${process.version}`,
);
let bad = 0;
const t0 = performance.now();
for (const arch of archs) {
  const configs: [BoardConfig, boolean][] = boardsFor(arch).flatMap((b) => [[b, false], [b, true]] as [BoardConfig, boolean][]);
  const t: Tally = { ...emptyStats(), leaks: [], defects: [] };
  const start = performance.now();
  const runs: string[] = [];
  configs.forEach(([board, faults], i) => {
    // An even share of the operations per configuration, the remainder to the last.
    const ops = i < configs.length - 1 ? Math.floor(OPS / configs.length) : OPS - Math.floor(OPS / configs.length) * (configs.length - 1);
    const before = t.ops;
    const c0 = performance.now();
    soakRun(arch, board, faults, SEED + i, ops, t);
    runs.push(`${board.label}${faults ? ' + faults' : ''} ${fmt(t.ops - before)} ops ${((performance.now() - c0) / 1000).toFixed(1)} s`);
  });
  report(arch, t, (performance.now() - start) / 1000, runs);
  bad += t.leaks.length + t.defects.length;
}
console.log(`\nsoak ${bad === 0 ? 'passed' : `FAILED (${bad} findings)`} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exitCode = bad === 0 ? 0 : 1;
