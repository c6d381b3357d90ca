import type { Process, VmObject } from '../../src/index.js';

/*
 * The shadow model of the whole stack: what every mapped byte of every process must read, and the protection, flags
 * and object of every mapped page, kept page by page (a sparse byte map: only mapped pages exist).
 */

/** The bytes of a memory object as every SHARED mapping sees them (and private mappings until they write). */
export interface ObjModel {
  /** The name `vm.maps()` shows for its mappings. */
  readonly name: string;
  /** `pages` pages; past the object's data, zeros. Shared by reference: a SHARED write lands here. */
  readonly bytes: Uint8Array;
  readonly pages: number;
  /** No MMU: the identity of the block holding object page `i` (a process maps a block once, else EEXIST). */
  readonly key: (page: number) => string;
}

/** One mapped page of one process. */
export interface PageModel {
  /** `Prot` R/W/X bits (`USER` is always added by `Process`). */
  prot: number;
  /** Most `mprotect` may give (no MMU: a private read-only mapping of an object's block never gets WRITE). */
  maxProt: number;
  /** The `MapFlags` `SHARED`/`PRIVATE`/`NOINHERIT`/`UNCACHED` bits the entry must show. */
  flags: number;
  /** The entry's object name in `vm.maps()`. */
  name: string;
  /** The object mapped, or null for private anonymous memory. */
  obj: ObjModel | null;
  /** Page index in `obj` (beyond its pages: zeros, a segment's bss); -1 without an object. */
  objPage: number;
  /** SHARED: reads and writes go to `obj`. */
  shared: boolean;
  /** A private page's own bytes, once written (or copied at map time without an MMU). */
  own: Uint8Array | null;
  /** No MMU: the object block page this page is (see {@link ObjModel.key}); null for private copies. */
  key: string | null;
}

/** A live process and its pages, by page address. */
export interface ProcModel {
  readonly proc: Process;
  readonly pid: number;
  pages: Map<number, PageModel>;
}

/** An object the driver holds the creator's reference of. */
export interface HeldObject {
  readonly handle: VmObject;
  readonly model: ObjModel;
  readonly kind: 'pager' | 'phys';
  /** Physical base (phys objects). */
  readonly pa: number;
  /** The array a pager object was made from: `sync()` writes SHARED changes back into it. */
  readonly source: Uint8Array | null;
}

/** What a page reads now (a view, never to be written). */
export function pageContent(p: PageModel, ps: number, zero: Uint8Array): Uint8Array {
  if (p.own !== null) return p.own;
  const o = p.obj;
  if (o !== null && p.objPage >= 0 && p.objPage < o.pages) return o.bytes.subarray(p.objPage * ps, (p.objPage + 1) * ps);
  return zero;
}

/** Where a write to the page lands: the object's page when SHARED, else the page's own copy (made now). */
export function pageTarget(p: PageModel, ps: number, zero: Uint8Array): Uint8Array {
  if (p.shared) return p.obj!.bytes.subarray(p.objPage * ps, (p.objPage + 1) * ps);
  if (p.own === null) p.own = pageContent(p, ps, zero).slice();
  return p.own;
}

/** A fork child's copy of a page: shared memory stays shared, private bytes are a snapshot. */
export function forkPage(p: PageModel): PageModel {
  return { ...p, own: p.own === null ? null : p.own.slice() };
}
