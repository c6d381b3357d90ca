import { FaultCode, Prot, VmError } from '@vmlayers/phys';
import type { Backing, BackingPage } from '../backing.js';

/**
 * Memory that is already there: the kernel image and other boot-reserved ranges, offset = physical address
 * minus `base` (the original's kernel-object entries). Nothing to allocate or free; never merged, never forked.
 */
export class FixedBacking implements Backing {
  readonly maxProt = Prot.READ | Prot.WRITE | Prot.EXEC;
  readonly name: string;
  private readonly base: number;
  private readonly result: BackingPage = { pa: 0, writable: true };

  constructor(base: number, name: string) {
    this.base = base;
    this.name = name;
  }

  fault(offset: number): BackingPage | number {
    this.result.pa = this.base + offset;
    return this.result;
  }

  split(): Backing {
    return new FixedBacking(this.base, this.name);
  }

  canMerge(): boolean {
    return false;
  }

  merge(): void {
    throw new VmError('EINVAL', `${this.name} memory never merges`);
  }

  fork(): Backing {
    throw new VmError('EINVAL', `${this.name} memory is the kernel's and is never forked`);
  }

  copy(): void {}

  shared(): boolean {
    return false;
  }

  unmap(): void {}

  release(): void {}

  contiguous(offset: number): number {
    return offset >= 0 ? this.base + offset : FaultCode.BAD_ADDRESS;
  }
}
