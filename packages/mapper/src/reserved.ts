import { FaultCode, Prot, VmError } from '@vmlayers/phys';
import type { Backing, BackingPage } from './backing.js';

/**
 * What `reserve` maps: address space and nothing else (the original's `vm_mapFind`, which maps its kernel object
 * at `VM_OFFS_MAX`). No page can ever be had from it: its `maxProt` is `Prot.NONE`, so `mprotect` cannot open it and
 * every access faults, and the range is filled only by `FIXED` mappings placed over it (the original's IPC windows).
 * Never merged with a neighbour (two reservations stay two); a part cut off by `munmap` or a `FIXED` mapping stays
 * reserved; fork gives the child the same reservation.
 */
export class ReservedBacking implements Backing {
  readonly maxProt = Prot.NONE;
  readonly name = '[reserved]';

  fault(): BackingPage | number {
    return FaultCode.PROTECTION;
  }

  split(): Backing {
    return new ReservedBacking();
  }

  canMerge(): boolean {
    return false;
  }

  merge(): void {
    throw new VmError('EINVAL', 'reserved address space never merges');
  }

  fork(): Backing {
    return new ReservedBacking();
  }

  copy(): void {}

  shared(): boolean {
    return false;
  }

  unmap(): void {}

  release(): void {}

  contiguous(): number {
    return FaultCode.NOT_MAPPED;
  }
}
