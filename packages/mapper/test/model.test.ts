import { MapFlags, Prot, isVmError } from '@vmlayers/phys';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARCHS, PRIV, boot } from './helpers.js';

const PROTS = [Prot.READ | Prot.WRITE | Prot.USER, Prot.READ | Prot.USER, Prot.USER] as const;
const WINDOW = 24;

type Op =
  | { op: 'mmap'; fixed: boolean; anchor: number; at: number; len: number; prot: number }
  | { op: 'munmap'; anchor: number; at: number; len: number }
  | { op: 'mprotect'; anchor: number; at: number; len: number; prot: number }
  | { op: 'write'; anchor: number; at: number; value: number }
  | { op: 'read'; anchor: number; at: number }
  | { op: 'fork'; anchor: number; at: number; value: number };

const at = fc.integer({ min: 0, max: WINDOW - 1 });
const len = fc.integer({ min: 1, max: 6 });
const anchor = fc.nat(7);
const prot = fc.constantFrom(...PROTS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('mmap' as const), fixed: fc.boolean(), anchor, at, len, prot }),
  fc.record({ op: fc.constant('munmap' as const), anchor, at, len }),
  fc.record({ op: fc.constant('mprotect' as const), anchor, at, len, prot }),
  fc.record({ op: fc.constant('write' as const), anchor, at, value: fc.integer({ min: 1, max: 0xffff_ffff }) }),
  fc.record({ op: fc.constant('read' as const), anchor, at }),
  fc.record({ op: fc.constant('fork' as const), anchor, at, value: fc.integer({ min: 1, max: 0xffff_ffff }) }),
);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (!isVmError(e)) throw e;
    return e.code;
  }
}

describe.each(ARCHS)('model: random mmap/munmap/mprotect/read/write on $name', (a) => {
  it('agrees with an array-of-pages model, check() after every step', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 5, maxLength: 60, size: 'max' }), (ops) => {
        const b = boot(a);
        const ps = b.ps;
        const free0 = b.alloc.info();
        const m = b.kmap.createUserMap(1);
        // The model: page number → { prot, word at offset 4 }.
        const pages = new Map<number, { prot: number; value: number }>();
        // Without an MMU the allocator places mappings: anchors are where they landed.
        const anchors: number[] = [a.mmu ? 0x40_0000 : 0x2000_0000];
        const base = (i: number) => anchors[i % anchors.length];
        for (const o of ops) {
          const va = base(o.anchor) + o.at * ps;
          switch (o.op) {
            case 'mmap': {
              const fixed = o.fixed && a.mmu;
              const flags = PRIV | (fixed ? MapFlags.FIXED : 0);
              const got = m.mmap({ addr: va, size: o.len * ps, prot: o.prot, flags });
              if (fixed) expect(got).toBe(va);
              else if (a.mmu) {
                // First fit at or above the hint.
                let p = va / ps;
                for (let k = 0; k < o.len; k++) if (pages.has(p + k)) ((p = p + k + 1), (k = -1));
                expect(got).toBe(p * ps);
              } else anchors.push(got);
              for (let k = 0; k < o.len; k++) {
                if (!fixed) expect(pages.has(got / ps + k)).toBe(false);
                pages.set(got / ps + k, { prot: o.prot, value: 0 });
              }
              break;
            }
            case 'munmap':
              m.munmap(va, o.len * ps);
              for (let k = 0; k < o.len; k++) pages.delete(va / ps + k);
              break;
            case 'mprotect': {
              let hole = false;
              for (let k = 0; k < o.len; k++) hole ||= !pages.has(va / ps + k);
              const code = codeOf(() => m.mprotect(va, o.len * ps, o.prot));
              expect(code).toBe(hole ? 'ENOMEM' : undefined);
              if (!hole) for (let k = 0; k < o.len; k++) pages.get(va / ps + k)!.prot = o.prot;
              break;
            }
            case 'write': {
              const p = pages.get(va / ps);
              const code = codeOf(() => m.write32(va + 4, o.value));
              expect(code).toBe(!p ? 'EFAULT' : p.prot & Prot.WRITE ? undefined : 'EACCES');
              if (p && p.prot & Prot.WRITE) p.value = o.value;
              break;
            }
            case 'read': {
              const p = pages.get(va / ps);
              let got = -1;
              const code = codeOf(() => (got = m.read32(va + 4)));
              expect(code).toBe(!p ? 'EFAULT' : p.prot & Prot.READ ? undefined : 'EACCES');
              if (p && p.prot & Prot.READ) expect(got).toBe(p.value);
              break;
            }
            case 'fork': {
              if (!a.mmu) {
                expect(codeOf(() => m.copy(2))).toBe('ENOSYS');
                break;
              }
              // The child sees a snapshot; a write in either is not seen by the other.
              const c = m.copy(2);
              c.check();
              for (const [pn, p] of pages) {
                if (!(p.prot & Prot.READ)) continue;
                expect(c.read32(pn * ps + 4)).toBe(p.value);
              }
              const p = pages.get(va / ps);
              if (p && p.prot & Prot.WRITE) {
                c.write32(va + 4, o.value);
                expect(m.read32(va + 4)).toBe(p.value);
                p.value = (p.value ^ 1) >>> 0;
                m.write32(va + 4, p.value);
                expect(c.read32(va + 4)).toBe(o.value);
              }
              c.destroy();
              break;
            }
          }
          m.check();
          // Every page the entries cover is in the model with the same prot, and nothing else is.
          let covered = 0;
          for (const e of m.entries()) {
            for (let v = e.start; v < e.end; v += ps) {
              expect(pages.get(v / ps)?.prot).toBe(e.prot);
              covered++;
            }
          }
          expect(covered).toBe(pages.size);
        }
        m.destroy();
        expect(b.alloc.info()).toEqual(free0);
        b.kmap.check();
      }),
      { numRuns: 200 },
    );
  });
});
