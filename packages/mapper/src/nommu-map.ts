import { FaultCode, PageOwner, VmError, hex } from '@vmlayers/phys';
import type { Backing } from './backing.js';
import { place } from './entry-clip.js';
import { NIL } from './entry-pool.js';
import { allows } from './internal/protection.js';
import { checkInside } from './internal/validate.js';
import type { MapBase } from './map-base.js';
import { ZeroFillBacking } from './zero-fill.js';

/*
 * The no-MMU side of a map (DESIGN §3, "No-MMU mode"). There is one flat address space: every process map is a view
 * holding only its owner's entries, placed where the backing's contiguous block is (va = pa); the MPU knows whole
 * board maps only (granted through the optional `Pmap.grant`), so the protection of an entry is the view's to
 * enforce, in software, before the MPU is asked.
 */

/**
 * Maps `len` bytes of `backing` (a new zero-fill one when undefined) where its contiguous block is, populated at
 * once. The map entry is reserved before the block is asked for, so running out of entries takes no block; on any
 * error a backing made here is released and the map is as it was.
 */
export function mmapContiguous(
  m: MapBase,
  len: number,
  prot: number,
  flags: number,
  backing: Backing | undefined,
  offset: number,
  fixed: boolean,
): number {
  if (fixed) throw new VmError('EINVAL', 'MapFlags.FIXED: without an MMU a mapping goes where its memory is');
  m.reserveEntries(1);
  const created = backing === undefined;
  let b: Backing | undefined;
  try {
    b = backing ?? new ZeroFillBacking(m.ctx.alloc, { owner: m.isKernel ? PageOwner.KERNEL : PageOwner.APP });
    const pa = b.contiguous(offset, len);
    if (pa < 0) {
      const why = pa === FaultCode.NO_MEMORY ? 'ENOMEM' : 'EFAULT';
      throw new VmError(why, `backing ${b.name} has no block of ${hex(len)} bytes at offset ${hex(offset)} (fault code ${pa})`);
    }
    if (!Number.isSafeInteger(pa) || pa % m.pageSize !== 0) throw new VmError('EINVAL', `backing ${b.name} gave an unaligned block ${hex(pa)}`);
    checkInside(pa, len, m.tree.lo, m.tree.hi, 'map range');
    const o = m.tree.firstEndingAfter(pa);
    if (o !== NIL && m.ctx.pool.start[o] < pa + len) {
      throw new VmError('EEXIST', `[${hex(pa)}, ${hex(pa + len)}) of backing ${b.name} is already mapped by this map`);
    }
    // Granting is idempotent and never revoked: done before the entry exists, nothing to undo if it throws.
    m.pmap.grant?.(pa, len);
    place(m, pa, len, prot, flags, b, offset, false);
    return pa;
  } catch (e) {
    m.releaseReserved();
    if (created) b?.release();
    throw e;
  }
}

/**
 * The address of `va` for `access` in a view, or a negative `FaultCode`: the entry must be the view's and allow the
 * access (checked here: `NOT_MAPPED`/`PROTECTION`), then the MPU must agree (`pmap.translate`). Without an MMU the
 * address is `va` itself.
 */
export function flatPageFor(m: MapBase, va: number, access: number): number {
  const e = m.tree.containing(va);
  if (e === NIL) return FaultCode.NOT_MAPPED;
  if (!allows(m.ctx.pool.prot[e], access, m.ctx.execProtect)) return FaultCode.PROTECTION;
  const r = m.pmap.translate(va, access);
  if (r < 0) return r === FaultCode.PROTECTION ? r : FaultCode.NOT_MAPPED;
  return va;
}
