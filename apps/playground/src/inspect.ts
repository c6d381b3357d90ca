import { mpuSlots } from '@vmlayers/demo/lib';
import type { MpuSlot } from '@vmlayers/demo/lib';
import type { FrameMapping, Vm } from '@vmlayers/memobj';
import { PageOwner, PageUsage } from '@vmlayers/phys';
import type { PmapTable } from '@vmlayers/phys';
import { MmuPmap, leafFlags } from '@vmlayers/pmap-mmu';
import type { PteLeaf } from '@vmlayers/pmap-mmu';
import type { FrameOwner } from '@vmlayers/demo/lib';

const OWNER_NAMES = new Map<number, string>(Object.entries(PageOwner).map(([k, v]) => [v, k]));
const USAGE_NAMES = new Map<number, string>(Object.entries(PageUsage).map(([k, v]) => [v, k]));

/** What a click on a frame shows: the page allocator's record of it and every page that maps it. */
export interface FrameDetails {
  /** The frame's address (the page holding the address asked about). */
  pa: number;
  /** The board region it is in (`dram`, `sram`, …) and its kind, or null in a hole. */
  region: { name: string; kind: string } | null;
  /** The allocator's block holding it: head, order, owner and usage names, free or not; null off RAM. */
  block: { head: number; order: number; owner: string; usage: string; free: boolean } | null;
  /** Who took it, from the vm's `alloc` event (user frames only). */
  takenBy: FrameOwner | null;
  /** `vm.mappingsOf(pa)`, each with the flags of its page-table entry when there is an MMU. */
  mappings: (FrameMapping & { pte: string | null })[];
  /** True when this is the shared zero page. */
  zeroPage: boolean;
}

/** The frame holding `pa`, as the library knows it: `PageAllocator.get`, the `alloc` owners, `vm.mappingsOf`. */
export function frameDetails(vm: Vm, owners: ReadonlyMap<number, FrameOwner>, pa: number): FrameDetails {
  const ps = vm.arch.pageSize;
  const frame = pa - (pa % ps);
  const region = vm.board.regionAt(frame);
  const info = region?.kind === 'device' ? undefined : vm.alloc.get(frame);
  let takenBy: FrameOwner | null = null;
  // A no-MMU block is recorded at its first frame, with its size.
  for (const [at, o] of owners) if (frame >= at && frame < at + Math.max(o.size, ps)) takenBy = o;
  const leaves = new Map<number, PteLeaf[]>();
  const mappings = vm.mappingsOf(frame).map((m) => {
    const pmap = vm.pmap(m.pid);
    let pte: string | null = null;
    if (pmap instanceof MmuPmap) {
      if (!leaves.has(m.pid)) leaves.set(m.pid, pmap.leaves());
      const leaf = leaves.get(m.pid)!.find((l) => l.va <= m.va && m.va < l.va + l.size);
      if (leaf !== undefined) pte = leafFlags(leaf.bits);
    }
    return { ...m, pte };
  });
  return {
    pa: frame,
    region: region === undefined ? null : { name: region.name, kind: region.kind },
    block:
      info === undefined
        ? null
        : { head: info.pa, order: info.order, owner: OWNER_NAMES.get(info.owner) ?? String(info.owner), usage: USAGE_NAMES.get(info.usage) ?? String(info.usage), free: info.free },
    takenBy,
    mappings,
    zeroPage: vm.zeroPage === frame,
  };
}

/** One table of an address space's tree, with its place in it. */
export interface TableNode {
  table: PmapTable;
  /** Index in the list of the table whose entry points to this one; -1 for the root. */
  parent: number;
  /** Index of that entry in the parent table. */
  slot: number;
}

/**
 * The page-table tree of process `pid` (`vm.tables(pid)`), each table with its parent: the table one level up
 * whose range holds its first address. In address order, each table after its parent.
 */
export function tableTree(vm: Vm, pid: number): TableNode[] {
  const tables = [...vm.tables(pid)].sort((a, b) => a.va - b.va || a.level - b.level);
  const nodes: TableNode[] = [];
  const lastAt = new Map<number, number>();
  for (const t of tables) {
    const up = lastAt.get(t.level - 1);
    const parent = t.level === 0 || up === undefined ? -1 : up;
    const slot = parent < 0 ? 0 : Math.floor((t.va - nodes[parent].table.va) / nodes[parent].table.span);
    lastAt.set(t.level, nodes.length);
    nodes.push({ table: t, parent, slot });
  }
  return nodes;
}

/** One present entry of a page table: a leaf (va → frame, flags) or a pointer to the next table. */
export interface TableEntry {
  /** Index of the entry in its table. */
  slot: number;
  /** First virtual address the entry maps. */
  va: number;
  /** The frame it maps, or the table it points to. */
  pa: number;
  /** Bytes it maps. */
  size: number;
  /** `U R W X G A D` letters for a leaf; null for a pointer. */
  flags: string | null;
  /** Physical address of the entry itself, when known (leaves). */
  pte: number | null;
}

/**
 * The present entries of one table of `pid`'s tree: the leaves whose entry lies in the table's frame
 * (`MmuPmap.leaves()`), and the pointers to its child tables. Empty without an MMU (no tables, MPU regions).
 */
export function tableEntries(vm: Vm, pid: number, nodes: readonly TableNode[], index: number): TableEntry[] {
  const pmap = vm.pmap(pid);
  if (!(pmap instanceof MmuPmap)) return [];
  const node = nodes[index];
  const t = node.table;
  const out: TableEntry[] = [];
  // A leaf belongs to the table its PTE lies in: the table starting last at or below the PTE's address (tables do
  // not overlap). Their sizes differ by format — a frame on Sv39 and ia32, 1 KiB level-2 tables four to a frame
  // and an 8 or 16 KiB level-1 table on ARMv7-A — so no size is assumed.
  const starts = nodes.map((n) => n.table.pa).sort((a, b) => a - b);
  const owner = (pte: number): number => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= pte) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 ? starts[hi] : -1;
  };
  for (const l of pmap.leaves()) {
    if (owner(l.pte) === t.pa) out.push({ slot: Math.floor((l.va - t.va) / t.span), va: l.va, pa: l.pa, size: l.size, flags: leafFlags(l.bits), pte: l.pte });
  }
  for (const n of nodes) if (n.parent === index) out.push({ slot: n.slot, va: n.table.va, pa: n.table.pa, size: t.span, flags: null, pte: null });
  return out.sort((a, b) => a.va - b.va);
}

/** The MPU regions process `pid`'s address space enables (slot, base, size, AP, XN, SRD); null with an MMU. */
export function mpuRegions(vm: Vm, pid: number): MpuSlot[] | null {
  return mpuSlots(vm.pmap(pid));
}
