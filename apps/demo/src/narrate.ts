import { Access } from '@vmlayers/phys';
import type { AccessRefusal, VmEvent } from '@vmlayers/memobj';
import { addr, bytes } from './format.js';

/** How many page faults a step tells one by one before summing the rest up. */
const FAULTS_TOLD = 4;

const REFUSALS: Record<AccessRefusal, string> = {
  EACCES: 'the mapping there does not allow that access',
  EFAULT: 'nothing is mapped there',
  ENOMEM: 'no memory was left to map the page',
};

function verb(access: number): string {
  if (access & Access.WRITE) return 'writes';
  if (access & Access.EXEC) return 'executes';
  return 'reads';
}

/** "frame 0x… evicted (its page goes to swap slot N)": an `evict` event and the `swap-out` of its frame after it. */
function evictText(e: Extract<VmEvent, { type: 'evict' }>, events: readonly VmEvent[], at: number): string {
  const out = events.slice(at + 1, at + 3).find((g): g is Extract<VmEvent, { type: 'swap-out' }> => g.type === 'swap-out' && g.pa === e.pa);
  return `frame ${addr(e.pa)} evicted${out ? ` (its page goes to swap slot ${out.slot})` : ''}`;
}

/** "pid P's page at 0x… read back from swap slot N into frame 0x… (a major fault)". */
function swapInText(e: Extract<VmEvent, { type: 'swap-in' }>): string {
  const whose = e.pid !== undefined && e.va !== undefined ? `pid ${e.pid}'s page at ${addr(e.va)}` : 'a page';
  return `${whose} read back from swap slot ${e.slot} into frame ${addr(e.pa)} (a major fault)`;
}

const capital = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/**
 * Plain-words sentences for what the vm reported through `onEvent` during one step: page faults and how each was
 * served (zero fill, copy-on-write with the frame copied, a page read into an object's page cache, a page read
 * back from swap, or a page already resident), frames reclaim evicted to swap, frames taken and given back, processes created, forked and ended. Only what the events say.
 */
export function narrate(input: readonly VmEvent[]): string[] {
  const events = input;
  const out: string[] = [];
  let faultsTold = 0;
  let faultsMore = 0;
  const more = { zero: 0, zeroPage: 0, cow: 0, filled: 0, swapIn: 0, resident: 0, evicted: 0 };
  const freed = new Map<string, { n: number; size: number }>();
  let i = 0;
  while (i < events.length) {
    const e = events[i];
    if (e.type === 'fault' && e.result !== undefined) {
      // A refused access: the map answered, no memory object was asked.
      out.push(`pid ${e.pid} ${verb(e.access)} ${addr(e.va)}: refused with ${e.result} — ${REFUSALS[e.result]}.`);
      i++;
      continue;
    }
    if (e.type === 'fault') {
      // A fault and what served it: the alloc / zero-fill / cow / swap-in events of the same page that follow it,
      // and the evictions reclaim made to find it a frame (free, evict, swap-out of another frame).
      let j = i + 1;
      let alloc: Extract<VmEvent, { type: 'alloc' }> | undefined;
      let served: Extract<VmEvent, { type: 'zero-fill' | 'cow' | 'zero-page' | 'swap-in' }> | undefined;
      const evicted: string[] = [];
      for (; j < events.length; j++) {
        const f = events[j];
        if (f.type === 'evict') {
          evicted.push(evictText(f, events, j));
          continue;
        }
        // The evicted frame's free (before its evict event) and its swap-out belong to the eviction.
        if (f.type === 'swap-out') continue;
        if (f.type === 'free' && events.slice(j + 1, j + 3).some((g) => g.type === 'evict' && g.pa === f.pa)) continue;
        if (f.type !== 'alloc' && f.type !== 'zero-fill' && f.type !== 'cow' && f.type !== 'zero-page' && f.type !== 'swap-in') break;
        if (f.pid !== e.pid || f.va !== e.va) break;
        if (f.type === 'alloc') alloc = f;
        else served = f;
      }
      const how =
        served?.type === 'swap-in'
          ? swapInText(served)
          : served?.type === 'cow'
          ? `the page was shared copy-on-write, so frame ${addr(served.from)} was copied into a new frame ${addr(served.pa)} that only pid ${e.pid} maps`
          : served?.type === 'zero-fill'
            ? `nothing was there yet, so a zeroed frame ${addr(served.pa)} became the page (zero fill)`
            : served?.type === 'zero-page'
              ? `nothing was written there yet, so the shared zero page ${addr(served.pa)} was mapped read-only (no frame taken; a write will get a page of its own)`
            : alloc !== undefined
              ? `frame ${addr(alloc.pa)} became the page of ${e.object} and stays in its page cache`
              : `the page was already in memory, so it was only mapped (no frame taken)`;
      const room = evicted.length > 0 ? `${evicted.join('; ')}; ` : '';
      if (faultsTold < FAULTS_TOLD) {
        out.push(`pid ${e.pid} ${verb(e.access)} ${addr(e.va)}: page fault in ${e.object}; ${room}${how}.`);
        faultsTold++;
      } else {
        faultsMore++;
        more.evicted += evicted.length;
        if (served?.type === 'swap-in') more.swapIn++;
        else if (served?.type === 'cow') more.cow++;
        else if (served?.type === 'zero-fill') more.zero++;
        else if (served?.type === 'zero-page') more.zeroPage++;
        else if (alloc !== undefined) more.filled++;
        else more.resident++;
      }
      i = j;
      continue;
    }
    switch (e.type) {
      case 'alloc':
        out.push(
          `pid ${e.pid ?? '-'}: ${bytes(e.size)} at ${addr(e.pa)} taken for ${e.object}` +
            (e.va === undefined ? ' at once (no MMU: a mapping is one block, populated when it is made)' : '') +
            '.',
        );
        break;
      case 'free': {
        // The frame of a page reclaim evicts: told with the eviction.
        if (events.slice(i + 1, i + 3).some((g) => g.type === 'evict' && g.pa === e.pa)) break;
        const f = freed.get(e.object) ?? { n: 0, size: 0 };
        f.n++;
        f.size += e.size;
        freed.set(e.object, f);
        break;
      }
      // Served without a fault event before it (does not happen today): still say it.
      case 'zero-fill':
        out.push(`pid ${e.pid}: zeroed frame ${addr(e.pa)} for ${addr(e.va)}.`);
        break;
      case 'zero-page':
        out.push(`pid ${e.pid}: the zero page ${addr(e.pa)} mapped read-only at ${addr(e.va)}.`);
        break;
      case 'cow':
        out.push(`pid ${e.pid}: frame ${addr(e.from)} copied into ${addr(e.pa)} (copy-on-write) for ${addr(e.va)}.`);
        break;
      // Reclaim outside a fault (vm.reclaim()): the frame and where its page went.
      case 'evict':
        out.push(`${capital(evictText(e, events, i))}.`);
        break;
      case 'swap-in':
        out.push(`${capital(swapInText(e))}.`);
        break;
      case 'spawn':
        out.push(`pid ${e.pid} created.`);
        break;
      case 'fork':
        out.push(`pid ${e.pid} forked from pid ${e.parent}.`);
        break;
      case 'exit':
        out.push(`pid ${e.pid} exited.`);
        break;
    }
    i++;
  }
  if (faultsMore > 0) {
    const parts = [
      more.zero && `${more.zero} zero fill`,
      more.zeroPage && `${more.zeroPage} zero page`,
      more.cow && `${more.cow} copy-on-write`,
      more.filled && `${more.filled} read from an object`,
      more.swapIn && `${more.swapIn} read back from swap (major)`,
      more.resident && `${more.resident} already resident`,
    ].filter(Boolean);
    const ev = more.evicted > 0 ? `; ${more.evicted} frame${more.evicted === 1 ? '' : 's'} evicted to swap to make room` : '';
    out.push(`… and ${faultsMore} more page fault${faultsMore === 1 ? '' : 's'} (${parts.join(', ')})${ev}.`);
  }
  if (freed.size > 0) {
    let n = 0;
    let size = 0;
    const parts: string[] = [];
    for (const [object, f] of freed) {
      n += f.n;
      size += f.size;
      parts.push(`${f.n} of ${object}`);
    }
    out.push(`${n} block${n === 1 ? '' : 's'} of user memory (${bytes(size)}) given back to the page allocator: ${parts.join(', ')}.`);
  }
  return out;
}
