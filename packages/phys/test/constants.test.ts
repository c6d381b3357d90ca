import { describe, expect, it } from 'vitest';
import { Access, FaultCode, MapFlags, PageAttr, PageOwner, PageUsage, Prot } from '../src/index.js';

// The values are a contract between layers and with traces users record: DESIGN §3 fixes them.
describe('constants', () => {
  it('Prot', () => expect(Prot).toEqual({ NONE: 0, READ: 1, WRITE: 2, EXEC: 4, USER: 8 }));
  it('MapFlags keeps the original values and adds SHARED/PRIVATE', () =>
    expect(MapFlags).toEqual({
      NONE: 0,
      NEEDSCOPY: 0x01,
      UNCACHED: 0x02,
      DEVICE: 0x04,
      NOINHERIT: 0x08,
      PHYSMEM: 0x10,
      CONTIGUOUS: 0x20,
      ANONYMOUS: 0x40,
      FIXED: 0x80,
      SHARED: 0x100,
      PRIVATE: 0x200,
      POPULATE: 0x400,
    }));
  it('Access', () => expect(Access).toEqual({ READ: 1, WRITE: 2, EXEC: 4, USER: 8 }));
  it('PageAttr', () =>
    expect(PageAttr).toEqual({
      PRESENT: 1,
      READ: 2,
      WRITE: 4,
      EXEC: 8,
      USER: 16,
      GLOBAL: 32,
      UNCACHED: 64,
      DEVICE: 128,
    }));
  it('FaultCode values are negative', () =>
    expect(FaultCode).toEqual({ NOT_MAPPED: -1, PROTECTION: -2, NON_CANONICAL: -3, NO_MEMORY: -4, BAD_ADDRESS: -5 }));
  it('PageOwner and PageUsage as the original page.c', () => {
    expect(PageOwner).toEqual({ BOOT: 0, KERNEL: 1, APP: 2 });
    expect(PageUsage).toEqual({ NONE: 0, SYSPAGE: 1, CPU: 2, PTABLE: 3, PMAP: 4, STACK: 5, HEAP: 6 });
  });
});
