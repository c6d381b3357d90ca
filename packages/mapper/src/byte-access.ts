import { Access, FaultCode, VmError, hex } from '@vmlayers/phys';
import { NIL } from './entry-pool.js';
import { allows } from './internal/protection.js';
import type { MapBase } from './map-base.js';

/*
 * The byte-access path of an AddressSpace: what a CPU does for a load or store that crosses pages. The whole range
 * is checked against the entries before the first page is faulted in, so a refused access (a hole, a page the
 * mapping forbids) has faulted nothing and copied nothing: a private mapping is not cut off from its object by a
 * write that then fails. Only running out of memory can stop an access half-way (earlier pages stay faulted in,
 * their bytes unchanged), as a CPU's fault on a later page would.
 */

/** The most one `read`/`write` moves; more → `EINVAL` (a result buffer is host memory). */
export const MAX_ACCESS = 2 ** 30;

/** Throws `EINVAL` for a bad address or length, before anything else is looked at. */
function checkArgs(va: unknown, len: unknown): asserts va is number {
  if (typeof va !== 'number' || !Number.isSafeInteger(va) || va < 0) {
    throw new VmError('EINVAL', `va must be a non-negative integer below 2^53, got ${hex(va)}`);
  }
  if (typeof len !== 'number' || !Number.isSafeInteger(len) || len < 0) {
    throw new VmError('EINVAL', `length must be a non-negative integer, got ${hex(len)}`);
  }
  if (!Number.isSafeInteger(va + len)) throw new VmError('EFAULT', `[${hex(va)}, +${hex(len)}) passes 2^53`);
}

/**
 * Checks that every byte of `[va, va + len)` lies in an entry allowing `access` (mode bits included); throws the
 * access's `VmError` (after telling the listener) for the first byte that does not. Then refuses lengths past
 * {@link MAX_ACCESS}. An access inside one page needs no walk: its one fault refuses it before changing anything.
 */
function checkMapped(m: MapBase, va: number, len: number, access: number): void {
  const ps = m.pageSize;
  if ((va % ps) + len <= ps) return;
  const P = m.ctx.pool;
  const end = va + len;
  let cursor = va;
  for (let e = m.tree.firstEndingAfter(va); cursor < end; e = m.tree.next(e)) {
    if (e === NIL || P.start[e] > cursor) throw m.refuse(FaultCode.NOT_MAPPED, cursor, access);
    if (!allows(P.prot[e], access, m.ctx.execProtect)) throw m.refuse(FaultCode.PROTECTION, cursor, access);
    cursor = P.end[e];
  }
  if (len > MAX_ACCESS) throw new VmError('EINVAL', `length ${hex(len)} is more than one access moves (${hex(MAX_ACCESS)})`);
}

// The frames behind every page of [va, va+len), faulting as needed, before a byte is touched.
function pagesFor(m: MapBase, va: number, len: number, access: number): Float64Array {
  const ps = m.pageSize;
  const first = va - (va % ps);
  const n = Math.ceil((va + len - first) / ps);
  const pas = new Float64Array(n);
  for (let i = 0; i < n; i++) pas[i] = m.pageFor(i === 0 ? va : first + i * ps, access);
  return pas;
}

/*
 * With a reverse map (reclaim), faulting in a later page may evict an earlier one of the same access: each page
 * is translated again just before its bytes move (a TLB hit when nothing was evicted; faulted back in when it
 * was). An access spanning more pages than the resident limit still completes, a page at a time.
 */

/** `len` bytes from `va` as the map's mode sees them. */
export function readBytes(m: MapBase, va: number, len: number): Uint8Array {
  checkArgs(va, len);
  const access = Access.READ | m.mode;
  checkMapped(m, va, len, access);
  if (len === 0) return new Uint8Array(0);
  const pas = pagesFor(m, va, len, access);
  const out = new Uint8Array(len);
  const mem = m.ctx.mem;
  const ps = m.pageSize;
  let pos = 0;
  const again = m.ctx.rmap !== null && !m.isKernel;
  for (let i = 0; pos < len; i++) {
    const n = Math.min(len - pos, ps - ((va + pos) % ps));
    out.set(mem.read(again ? m.pageFor(va + pos, access) : pas[i], n), pos);
    pos += n;
  }
  return out;
}

/** Writes `bytes` at `va` as the map's mode would; a refused page writes nothing. */
export function writeBytes(m: MapBase, va: number, bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw new VmError('EINVAL', `bytes must be a Uint8Array, got ${hex(bytes)}`);
  const len = bytes.length;
  checkArgs(va, len);
  const access = Access.WRITE | m.mode;
  checkMapped(m, va, len, access);
  if (len === 0) return;
  const pas = pagesFor(m, va, len, access);
  const mem = m.ctx.mem;
  const ps = m.pageSize;
  let pos = 0;
  const again = m.ctx.rmap !== null && !m.isKernel;
  for (let i = 0; pos < len; i++) {
    const n = Math.min(len - pos, ps - ((va + pos) % ps));
    mem.write(again ? m.pageFor(va + pos, access) : pas[i], bytes.subarray(pos, pos + n));
    pos += n;
  }
}

/** The little-endian word at `va`. */
export function readWord(m: MapBase, va: number): number {
  checkArgs(va, 4);
  const ps = m.pageSize;
  if ((va % ps) + 4 <= ps) {
    return m.ctx.mem.read32(m.pageFor(va, Access.READ | m.mode));
  }
  const b = readBytes(m, va, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

/** Writes the little-endian word `value` (any number; its low 32 bits) at `va`. */
export function writeWord(m: MapBase, va: number, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new VmError('EINVAL', `value must be a number, got ${hex(value)}`);
  checkArgs(va, 4);
  const v = value >>> 0;
  const ps = m.pageSize;
  if ((va % ps) + 4 <= ps) {
    m.ctx.mem.write32(m.pageFor(va, Access.WRITE | m.mode), v);
    return;
  }
  writeBytes(m, va, new Uint8Array([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]));
}
