import { FaultCode, Prot, VmError } from '@vmlayers/phys';
import type { Backing, BackingPage } from '@vmlayers/mapper';
import type { MemContext } from './internal/context.js';
import { ObjectMapping } from './object-mapping.js';
import type { MappingSpec } from './object-mapping.js';

/** A private block shared by the handles split from one mapping; freed with the last of them. */
interface PrivateBlock {
  pa: number;
  offset: number;
  bytes: number;
  handles: number;
}

/**
 * What a map entry of a process maps without an MMU: one physical block for the whole mapping (`contiguous`), the
 * entry placed at its address and populated at once.
 *
 * - `SHARED` and read-only private mappings of an object get the object's own block, so processes share it.
 * - A private mapping that may be written (or reaches past the object's end) gets its own copy of the data when it
 *   is made (`copyOnMap`): nothing can be copied later without an MMU. Anonymous memory gets a zeroed block (the
 *   original's project#1742 handed out whatever the range held).
 * - The parts of a cut mapping share the block and merge back; the block is freed with the last part.
 * - Nothing is ever shared copy-on-write (`shared()` is false) and there is no fork (`ENOSYS`).
 */
export class BlockBacking extends ObjectMapping implements Backing {
  private readonly copyOnMap: boolean;
  private block: PrivateBlock | null = null;
  private readonly result: BackingPage = { pa: 0, writable: true };

  constructor(ctx: MemContext, spec: MappingSpec & { copyOnMap: boolean }, memory?: object) {
    super(ctx, spec, memory);
    this.copyOnMap = spec.copyOnMap && !this.isShared;
  }

  /**
   * @internal Bytes of private memory the entry `[offset, offset + size)` holds (the original's `anonsz`): all of it
   * when the mapping has a block of its own (anonymous memory, a private copy), none when it maps the object's.
   */
  anonymousBytes(_offset: number, size: number): number {
    return this.block === null ? 0 : size;
  }

  fault(offset: number, _access: number): BackingPage | number {
    if (this.released) return FaultCode.NOT_MAPPED;
    let pa: number;
    if (this.block !== null) pa = this.block.pa + (offset - this.block.offset);
    else {
      const o = this.object;
      if (o === null || this.copyOnMap) return FaultCode.NOT_MAPPED;
      const base = o.block(this.pid);
      if (base < 0) return base;
      pa = base + offset;
    }
    this.result.pa = pa;
    return this.result;
  }

  split(_offset: number, _size: number): Backing {
    this.live('split');
    const up = new BlockBacking(this.ctx, { ...this.spec, copyOnMap: this.copyOnMap }, this.memory);
    if (this.block !== null) {
      this.block.handles++;
      up.block = this.block;
    }
    return up;
  }

  canMerge(other: Backing, _offsetDelta: number): boolean {
    // Parts of one private block, or parts of an object's own block: the range is one piece of memory again.
    return other instanceof BlockBacking && this.alike(other) && other.copyOnMap === this.copyOnMap && other.block === this.block;
  }

  merge(_other: Backing, _offsetDelta: number): void {
    // The block is already shared by both handles: `other` drops its hold when the mapper releases it.
  }

  fork(_offset: number, _size: number): Backing {
    throw new VmError('ENOSYS', 'fork needs an MMU');
  }

  /** Never called: nothing is shared copy-on-write without an MMU. */
  copy(_offset: number, _size: number): void {
    this.live('copy');
  }

  shared(): boolean {
    return false;
  }

  /** The block goes with the last part's release (a partly unmapped block stays whole until then). */
  unmap(_offset: number, _size: number): void {
    this.live('unmap');
  }

  release(): void {
    this.live('release');
    this.released = true;
    if (this.block !== null && --this.block.handles === 0) this.ctx.freeFrame(this.block.pa, this.block.bytes, this.name);
    this.block = null;
    this.dropObject();
  }

  contiguous(offset: number, size: number): number {
    if (this.released) return FaultCode.NOT_MAPPED;
    const ctx = this.ctx;
    const o = this.object;
    if (o !== null && !this.copyOnMap) {
      if (offset + size > o.pageCount * ctx.pageSize) return FaultCode.BAD_ADDRESS;
      const base = o.block(this.pid);
      if (base < 0) return base;
      if (this.isShared && this.maxProt & Prot.WRITE) o.markDirty(offset);
      return base + offset;
    }
    if (this.block !== null) {
      const b = this.block;
      return offset >= b.offset && offset + size <= b.offset + b.bytes ? b.pa + (offset - b.offset) : FaultCode.BAD_ADDRESS;
    }
    // Frames come zeroed from the allocator: anonymous memory without an MMU reads as zeros.
    const pa = ctx.frame(size);
    if (pa < 0) return FaultCode.NO_MEMORY;
    const data = o === null ? 0 : Math.max(0, Math.min(size, o.pageCount * ctx.pageSize - offset));
    if (o !== null && data > 0 && !o.copyOut(offset, data, pa)) {
      ctx.dropFrame(pa, size);
      return FaultCode.BAD_ADDRESS;
    }
    this.block = { pa, offset, bytes: size, handles: 1 };
    ctx.allocated(pa, size, this.name, this.pid);
    return pa;
  }
}
