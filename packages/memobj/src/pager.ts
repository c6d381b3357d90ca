import { VmError, hex } from '@vmlayers/phys';

/**
 * Where a memory object's data comes from: a program image, a file, anything addressable by byte offset. The
 * original fetched pages from a user-space server by message; here the interface is synchronous (an emulator faults
 * per instruction), so a pager whose data is remote is preloaded or wrapped by the caller.
 */
export interface Pager {
  /** Bytes of data; read once, when the object is created. */
  size(): number;
  /**
   * Fills `into` with the bytes at `offset` (page-aligned). `into` is zeroed and never reaches past `size()`; the
   * rest of the object's last page stays zero. Throwing makes the fault that asked fail (`EFAULT` to the process).
   */
  read(offset: number, into: Uint8Array): void;
  /**
   * Stores bytes written through `SHARED` mappings (`object.sync()`, and when the object dies). Without it the
   * writes live in the page cache only, as in the original, which never wrote back.
   */
  write?(offset: number, bytes: Uint8Array): void;
}

/**
 * The built-in pager: an object whose data is a `Uint8Array` held in memory (a program image, a file loaded by the
 * embedding code). Writes back into the same array.
 */
export class BytesPager implements Pager {
  /**
   * The object's data, not copied: `size()` is its length, frozen when the object is created. Writes through
   * `SHARED` mappings land here on `object.sync()` and when the object dies. Bytes changed here after the object
   * read them (into a cached page, or its no-MMU block) are not seen through the object.
   */
  readonly bytes: Uint8Array;

  /** A pager over `bytes` (kept, not copied). Not a `Uint8Array` → `EINVAL`. */
  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) throw new VmError('EINVAL', `bytes must be a Uint8Array, got ${hex(bytes)}`);
    this.bytes = bytes;
  }

  size(): number {
    return this.bytes.length;
  }

  read(offset: number, into: Uint8Array): void {
    into.set(this.bytes.subarray(offset, offset + into.length));
  }

  write(offset: number, bytes: Uint8Array): void {
    this.bytes.set(bytes.subarray(0, Math.max(0, Math.min(bytes.length, this.bytes.length - offset))), offset);
  }
}

/** True for something with the `Pager` methods. */
export function isPager(p: unknown): p is Pager {
  if (p === null || typeof p !== 'object') return false;
  const o = p as Record<string, unknown>;
  return typeof o.size === 'function' && typeof o.read === 'function' && (o.write === undefined || typeof o.write === 'function');
}
