import { Prot, VmError } from '@vmlayers/phys';
import type { MemContext } from './internal/context.js';
import type { VmObject } from './vm-object.js';

const RWX = Prot.READ | Prot.WRITE | Prot.EXEC;

/** How a process maps memory: what both backings ({@link AmapBacking}, {@link BlockBacking}) are made from. */
export interface MappingSpec {
  /** The object mapped, or null for anonymous memory. */
  object: VmObject | null;
  /** `SHARED`: the object's pages themselves, writes visible to every sharer; else private. */
  shared: boolean;
  /** Most the entry may allow (`Prot` R/W/X). */
  maxProt: number;
  /** The process, for events. */
  pid: number;
}

/**
 * What the two backings of a process mapping have in common: the object (one reference per handle), the kind of
 * sharing, the most an entry may allow, the process it belongs to, the name in maps listings. An anonymous mapping
 * has an identity of its own (`memory`): handles of one anonymous memory extend each other, two memories never.
 */
export abstract class ObjectMapping {
  /** Shown in maps listings: the object's name, or `[anon]` / `[shared anon]` for anonymous memory. */
  readonly name: string;
  /**
   * The most an entry of this mapping may allow, `Prot` bits R/W/X: `mmap`/`mprotect` beyond it → `EACCES`. Less
   * than R/W/X only where memory cannot be protected otherwise (a private read-only mapping sharing an object's
   * block without an MMU may never become writable).
   */
  readonly maxProt: number;
  /** @internal */
  readonly ctx: MemContext;
  /** The mapped object; null for anonymous memory. */
  readonly object: VmObject | null;
  /** A `SHARED` mapping (device memory always is). */
  readonly isShared: boolean;
  /** @internal The process, for events (set again on the child's handles by fork). */
  pid: number;
  /** @internal The anonymous memory this handle is part of (the object stands for it otherwise). */
  protected readonly memory: object;
  /** True once the mapper has called `release()`: the entry holding this handle is gone and it serves nothing. */
  protected released = false;

  protected constructor(ctx: MemContext, spec: MappingSpec, memory?: object) {
    const o = spec.object;
    this.ctx = ctx;
    this.object = o;
    this.isShared = spec.shared || (o !== null && o.kind === 'device');
    this.maxProt = spec.maxProt & RWX;
    this.pid = spec.pid;
    this.memory = memory ?? o ?? {};
    this.name = o === null ? (this.isShared ? '[shared anon]' : '[anon]') : o.name;
    o?.ref();
  }

  /** @internal True once the entry holding this handle is gone. */
  get isReleased(): boolean {
    return this.released;
  }

  /** The spec this handle was made from, for the handles split or forked from it. */
  protected get spec(): MappingSpec {
    return { object: this.object, shared: this.isShared, maxProt: this.maxProt, pid: this.pid };
  }

  /** True when `other` maps the same memory the same way (the part of `canMerge` both backings share). */
  protected alike(other: ObjectMapping): boolean {
    return (
      other !== this &&
      !this.released &&
      !other.released &&
      other.ctx === this.ctx &&
      other.memory === this.memory &&
      other.isShared === this.isShared &&
      other.maxProt === this.maxProt
    );
  }

  /** Drops the object reference this handle holds. */
  protected dropObject(): void {
    this.object?.put();
  }

  /** Throws `EINVAL` naming `op` when this handle was already released. */
  protected live(op: string): void {
    if (this.released) throw new VmError('EINVAL', `${op} on a released ${this.name} backing`);
  }
}
