import type { Vm } from '../vm.js';

function kb(bytes: number): string {
  // 512-byte pages (armv7m) make half kilobytes: print them rather than round memory away.
  return `${bytes / 1024}`;
}

function line(label: string, value: string, unit: string): string {
  return `${`${label}:`.padEnd(16, ' ')}${value.padStart(8, ' ')}${unit}\n`;
}

/**
 * The vm's figures in Linux's `/proc/meminfo` layout (a 16-column label, the value right-aligned in 8, `kB` =
 * 1024 bytes):
 * - `MemTotal`, `MemFree`: RAM frames, reserved ones included in the total;
 * - `MemBoot`: frames the board reserved before the vm started (firmware, the kernel image);
 * - `PageTables`: table frames of every address space, the kernel's included (0 without an MMU);
 * - `Slab`: bytes the kernel heap holds in zones (`KmallocUsed` handed out + `KmallocFree` free in those zones);
 * - `MapEntries`, `MapEntriesFree`: entries of the bounded map-entry pool in use and left (counts, no unit).
 */
export function formatMeminfo(vm: Vm): string {
  const m = vm.meminfo();
  const ps = vm.arch.pageSize;
  let tables = vm.kmap.pmap.stats().tableFrames;
  for (const p of vm.processes()) tables += vm.pmap(p.pid).stats().tableFrames;
  return (
    line('MemTotal', kb(m.page.total), ' kB') +
    line('MemFree', kb(m.page.free), ' kB') +
    line('MemBoot', kb(m.page.boot), ' kB') +
    line('PageTables', kb(tables * ps), ' kB') +
    line('Slab', kb(m.kmalloc.used + m.kmalloc.free), ' kB') +
    line('KmallocUsed', kb(m.kmalloc.used), ' kB') +
    line('KmallocFree', kb(m.kmalloc.free), ' kB') +
    line('MapEntries', `${m.map.entries}`, '') +
    line('MapEntriesFree', `${m.map.free}`, '')
  );
}
