import { Access, FaultCode, MapFlags, Prot, VmError } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import type { Backing, BackingPage } from '../src/index.js';
import { ARCHS, PRIV, RW, TestObject, boot, expectErrno, user } from './helpers.js';
import type { Booted } from './helpers.js';

/**
 * A backing that records every call the mapper makes and shares state the way memobj's do: `shared()` is true
 * until `copy()` gave it a range of its own, or while a fork twin lives.
 */
class RecordingBacking implements Backing {
  readonly name = 'rec';
  readonly maxProt = Prot.READ | Prot.WRITE;
  readonly calls: string[];
  own: [number, number] | null = null;
  twins: { n: number };
  released = false;
  failCopy = false;
  throwInFault: unknown = null;
  private readonly result: BackingPage = { pa: 0, writable: true };
  constructor(
    readonly obj: TestObject,
    calls: string[] = [],
    twins = { n: 1 },
  ) {
    this.calls = calls;
    this.twins = twins;
  }
  fault(offset: number, access: number): BackingPage | number {
    this.calls.push(`fault ${offset} ${access}`);
    if (this.throwInFault !== null) throw this.throwInFault;
    if (offset >= this.obj.pages * this.obj.b.ps) return FaultCode.BAD_ADDRESS;
    this.result.pa = this.obj.base + offset;
    return this.result;
  }
  split(offset: number, size: number): Backing {
    this.calls.push(`split ${offset} ${size}`);
    const up = new RecordingBacking(this.obj, this.calls, this.twins);
    up.own = this.own;
    return up;
  }
  canMerge(other: Backing): boolean {
    this.calls.push('canMerge');
    return other instanceof RecordingBacking && other.obj === this.obj;
  }
  merge(_other: Backing, delta: number): void {
    this.calls.push(`merge ${delta}`);
  }
  fork(offset: number, size: number): Backing {
    this.calls.push(`fork ${offset} ${size}`);
    this.twins.n++;
    return new RecordingBacking(this.obj, this.calls, this.twins);
  }
  copy(offset: number, size: number): void {
    this.calls.push(`copy ${offset} ${size}`);
    if (this.failCopy) throw new VmError('ENOMEM', 'no amap (test)');
    this.own = [offset, size];
  }
  shared(): boolean {
    return this.own === null || this.twins.n > 1;
  }
  unmap(offset: number, size: number): void {
    this.calls.push(`unmap ${offset} ${size}`);
  }
  release(): void {
    if (this.released) throw new Error('released twice');
    this.released = true;
    this.twins.n--;
    this.calls.push('release');
  }
  contiguous(offset: number): number {
    return this.obj.base + offset;
  }
}

function setup(a: (typeof ARCHS)[number]): { b: Booted; obj: TestObject } {
  const b = boot(a);
  return { b, obj: new TestObject(b, 8) };
}

describe.each(ARCHS.filter((a) => a.mmu))('the Backing contract as the mapper calls it, on $name', (a) => {
  it('a private entry whose backing shares is needs-copy; the first fault calls copy(offset, size) and clears it', () => {
    const { b, obj } = setup(a);
    const m = user(b);
    const bk = new RecordingBacking(obj);
    const va = m.mmap({ size: 4 * b.ps, prot: RW, flags: PRIV, backing: bk, offset: 2 * b.ps });
    expect(m.find(va)!.flags & MapFlags.NEEDSCOPY).toBe(MapFlags.NEEDSCOPY);
    m.check();
    m.read32(va + b.ps);
    expect(bk.calls).toEqual([`copy ${2 * b.ps} ${4 * b.ps}`, `fault ${3 * b.ps} ${Access.READ | Access.USER}`]);
    expect(m.find(va)!.flags & MapFlags.NEEDSCOPY).toBe(0);
    m.check();
  });

  it('a copy() that runs out of memory is NO_MEMORY, and the entry stays needs-copy', () => {
    const { b, obj } = setup(a);
    const m = user(b);
    const bk = new RecordingBacking(obj);
    const va = m.mmap({ size: b.ps, prot: RW, flags: PRIV, backing: bk });
    bk.failCopy = true;
    expect(m.fault(va, Access.WRITE | Access.USER)).toBe(FaultCode.NO_MEMORY);
    expectErrno(() => m.write32(va, 1), 'ENOMEM');
    expect(m.find(va)!.flags & MapFlags.NEEDSCOPY).toBe(MapFlags.NEEDSCOPY);
    bk.failCopy = false;
    m.write32(va, 1);
    m.check();
  });

  it('a non-VmError from a backing propagates unchanged; a VmError becomes a fault code', () => {
    const { b, obj } = setup(a);
    const m = user(b);
    const bk = new RecordingBacking(obj);
    const va = m.mmap({ size: b.ps, prot: RW, flags: MapFlags.SHARED, backing: bk });
    const bug = new TypeError('a bug in the backing');
    bk.throwInFault = bug;
    expect(() => m.fault(va, Access.READ | Access.USER)).toThrow(bug);
    bk.throwInFault = new VmError('EFAULT', 'the pager failed');
    expect(m.fault(va, Access.READ | Access.USER)).toBe(FaultCode.BAD_ADDRESS);
    expect(m.pmap.resolve(va)).toBe(-1);
    m.check();
  });

  it('split, unmap and fork get the range; a refused mprotect merges nothing (canMerge is speculative)', () => {
    const { b, obj } = setup(a);
    const m = user(b);
    const bk = new RecordingBacking(obj);
    const ps = b.ps;
    const va = m.mmap({ size: 4 * ps, prot: RW, flags: MapFlags.SHARED, backing: bk });
    m.mprotect(va + ps, ps, Prot.READ | Prot.USER);
    expect(bk.calls).toEqual([`split ${ps} ${3 * ps}`, `split ${2 * ps} ${2 * ps}`]);
    bk.calls.length = 0;
    // Back to RW: the three parts merge, each merge committed once the entries are reserved.
    m.mprotect(va + ps, ps, RW);
    expect(bk.calls.filter((c) => c.startsWith('merge'))).toEqual([`merge ${ps}`, `merge ${2 * ps}`]);
    expect(m.entries()).toHaveLength(1);
    bk.calls.length = 0;
    m.munmap(va + ps, ps);
    expect(bk.calls).toEqual([`unmap ${ps} ${ps}`, `split ${2 * ps} ${2 * ps}`]);
    bk.calls.length = 0;
    // A FIXED mapping over the hole needs one entry; none left → ENOMEM, and no merge happened.
    b.alloc.faults.failAt('map-entry', 1);
    const fresh = new RecordingBacking(obj, bk.calls);
    expectErrno(() => m.mmap({ addr: va + ps, size: ps, prot: RW, flags: MapFlags.SHARED | MapFlags.FIXED, backing: fresh, offset: 5 * ps }), 'ENOMEM');
    expect(bk.calls.some((c) => c.startsWith('merge'))).toBe(false);
    fresh.release();
    bk.calls.length = 0;
    const c = m.copy(2);
    expect(bk.calls).toEqual([`fork 0 ${ps}`, `fork ${2 * ps} ${2 * ps}`]);
    c.check();
    m.check();
  });

  it('fork marks needs-copy on both sides; when the twin exits the flag clears and neighbours merge again', () => {
    const { b, obj } = setup(a);
    const m = user(b);
    const ps = b.ps;
    const bk = new RecordingBacking(obj);
    const va = m.mmap({ size: 2 * ps, prot: RW, flags: PRIV, backing: bk });
    m.write32(va, 1);
    expect(m.entries().map((e) => e.flags & MapFlags.NEEDSCOPY)).toEqual([0]);
    const child = m.copy(2);
    expect(child.entries().map((e) => e.flags & MapFlags.NEEDSCOPY)).toEqual([MapFlags.NEEDSCOPY]);
    expect(m.entries().map((e) => e.flags & MapFlags.NEEDSCOPY)).toEqual([MapFlags.NEEDSCOPY]);
    // The parent's present page became read-only.
    expect(m.pmap.translate(va, Access.WRITE | Access.USER)).toBeLessThan(0);
    child.destroy();
    expect(m.entries().map((e) => e.flags & MapFlags.NEEDSCOPY)).toEqual([0]);
    m.check();
  });
});
