/** What happened, for `createVm({ onEvent })`: the demo narrates these and a trace records them. */
export type VmEventType = 'fault' | 'cow' | 'zero-fill' | 'alloc' | 'free' | 'spawn' | 'fork' | 'exit';

/**
 * One event. `pid` is the process concerned (absent for frames freed when an object dies), `va` the page's virtual
 * address, `pa` the frame's physical address.
 *
 * - `fault`: a page fault reached a memory object (`access` = the `Access` bits); or, with `result`, an access the
 *   process was refused (`EACCES` forbidden, `EFAULT` nothing mapped, `ENOMEM` no memory to map it), emitted just
 *   before the call throws that `VmError`.
 * - `zero-fill`: a fresh zeroed frame became an anonymous page.
 * - `cow`: a page shared copy-on-write was copied for a write (`from` = the frame copied).
 * - `alloc` / `free`: a frame for user memory (anonymous page, page-cache page, no-MMU block) was taken / given back
 *   (`size` in bytes).
 * - `spawn` / `fork` / `exit`: process life (`parent` on fork).
 */
export interface VmEvent {
  type: VmEventType;
  pid?: number;
  va?: number;
  pa?: number;
  /** `Access` bits of a `fault`. */
  access?: number;
  /** The frame a `cow` copied from. */
  from?: number;
  /** Bytes of an `alloc`/`free`. */
  size?: number;
  /** The parent of a `fork`. */
  parent?: number;
  /** The memory object concerned, by name (`fault`, `alloc`, `free`). */
  object?: string;
  /** The errno a refused access failed with (`fault` only; absent when the fault was served). */
  result?: 'EACCES' | 'EFAULT' | 'ENOMEM';
}

/** Receives every {@link VmEvent}; must not throw (an exception propagates out of the operation that emitted). */
export type VmEventListener = (event: VmEvent) => void;
