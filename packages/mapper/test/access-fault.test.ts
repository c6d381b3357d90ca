import { Access, FaultCode, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createKernelMap } from '../src/index.js';
import { ARCHS, PRIV, RO, RW, expectErrno } from './helpers.js';

const U = Access.USER;

describe.each(ARCHS)('onAccessFault on $name', (a) => {
  it('hears every refused access before its VmError, with owner, address, access and code', () => {
    const board = boards.get(a.board);
    const mem = new PhysicalMemory(board);
    const alloc = new PageAllocator(mem, { pageSize: a.arch.pageSize });
    const heard: [number, number, number, number][] = [];
    const kmap = createKernelMap({ arch: a.arch, mem, alloc, board, onAccessFault: (...f) => void heard.push(f) });
    const m = kmap.createUserMap(7);
    const ps = a.arch.pageSize;
    const ro = m.mmap({ size: ps, prot: RO, flags: PRIV });
    const rw = m.mmap({ size: 2 * ps, prot: RW, flags: PRIV });
    m.write(rw, Uint8Array.of(1, 2, 3));
    expect(m.read(ro, 4)).toEqual(new Uint8Array(4));
    expect(heard).toEqual([]);
    expectErrno(() => m.write(ro + 5, Uint8Array.of(1)), 'EACCES');
    expect(heard).toEqual([[7, ro + 5, Access.WRITE | U, FaultCode.PROTECTION]]);
    m.munmap(rw + ps, ps);
    expectErrno(() => m.read(rw + ps - 2, 4), 'EFAULT');
    expect(heard[1]).toEqual([7, rw + ps, Access.READ | U, FaultCode.NOT_MAPPED]);
    // The refused write left the byte as it was.
    expect(m.read(rw, 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(heard).toHaveLength(2);
    m.check();
  });
});
