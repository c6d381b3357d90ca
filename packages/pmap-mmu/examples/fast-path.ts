import { Access, PageAllocator, PageAttr, PageOwner, PhysicalMemory, boards } from '@vmlayers/phys';
import { ia32 } from '@vmlayers/pmap-mmu';
import type { MmuPmap } from '@vmlayers/pmap-mmu';

const board = boards.get(ia32.defaultBoard); // ia32-pc-32m
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: ia32.pageSize });
const kernel = ia32.createKernel(mem, alloc, board);
const pmap = ia32.createUser(kernel) as MmuPmap;
const frame = alloc.alloc(ia32.pageSize, { owner: PageOwner.APP })!;
pmap.enter(frame.pa, 0x0804_8000, PageAttr.PRESENT | PageAttr.READ | PageAttr.WRITE | PageAttr.USER);

// An emulator's memory access: the TLB hit test inlined on the TLB's own arrays, translate() on a miss.
// `need`: the access code's kinds (READ 1, WRITE 2, EXEC 4) in its mode's byte — a constant where the code is one.
const { entries, mask } = pmap.tlbView();
function physical(va: number, access: number): number {
  const need = (access & 7) << (access & 8);
  const k = ((va >>> 12) & mask) << 2;
  const w = entries[k + 1];
  if (entries[k] === va >>> 12 && (w & need) === need) return ((w & -4096) | (va & 4095)) >>> 0;
  return pmap.translate(va, access);
}

const READ = Access.READ | Access.USER;
const WRITE = Access.WRITE | Access.USER;
const walks = pmap.stats().walks;
const first = physical(0x0804_8010, READ); // a miss: translate walks the tables and fills the slot
const second = physical(0x0804_8020, READ); // a hit: the inlined test alone answers
const readWalks = pmap.stats().walks - walks;
const write = physical(0x0804_8030, WRITE); // D is clear: the slot allows no write yet, translate sets D
pmap.remove(0x0804_8000, 0x0804_9000); // the slot is cleared in place: the same arrays, no stale hit
const afterRemove = physical(0x0804_8020, READ);

export const result = {
  first: first - frame.pa,
  second: second - frame.pa,
  write: write - frame.pa,
  readWalks,
  afterRemove,
  sameArrays: pmap.tlbView().entries === entries,
};
console.log(result);
