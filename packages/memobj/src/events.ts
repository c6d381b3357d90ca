/** Why a process's access was refused (the errno its call throws). */
export type AccessRefusal = 'EACCES' | 'EFAULT' | 'ENOMEM';

/**
 * What happened, for `createVm({ onEvent })`: the demo narrates these and a trace records them. A union
 * discriminated on `type`; every variant carries the fields it always has. `pid` is the process concerned, `va` the
 * page's virtual address, `pa` the frame's physical address.
 */
export type VmEvent =
  /**
   * A page fault reached a memory object (`access` = the `Access` bits, `object` its name); or, with `result`, an
   * access the process was refused (`EACCES` forbidden, `EFAULT` nothing mapped, `ENOMEM` no memory to map it).
   */
  | { type: 'fault'; pid: number; va: number; access: number; object?: string; result?: AccessRefusal }
  /** A page shared copy-on-write was copied for a write: `from` is the frame copied, `pa` the copy. */
  | { type: 'cow'; pid: number; va: number; pa: number; from: number }
  /** A fresh zeroed frame became an anonymous page. */
  | { type: 'zero-fill'; pid: number; va: number; pa: number }
  /** A read of never-written anonymous memory mapped the shared zero page `pa`, read-only (no frame taken). */
  | { type: 'zero-page'; pid: number; va: number; pa: number }
  /**
   * A frame for user memory (anonymous page, page-cache page, no-MMU block) was taken (`size` bytes); `pid` and
   * `va` when a process's fault or mapping took it.
   */
  | { type: 'alloc'; pid?: number; va?: number; pa: number; size: number; object: string }
  /** A frame for user memory was given back. */
  | { type: 'free'; pa: number; size: number; object: string }
  | { type: 'spawn'; pid: number }
  | { type: 'fork'; pid: number; parent: number }
  | { type: 'exit'; pid: number };

/** The `type` of a {@link VmEvent}. */
export type VmEventType = VmEvent['type'];

/**
 * Receives every {@link VmEvent}. Events are delivered in order when the operation that caused them has finished
 * changing state (just before it returns or throws), so a listener sees a consistent subsystem. A listener that
 * throws stops the delivery of that operation's remaining events, and its exception propagates out of the
 * operation — whose changes are complete, never half-done.
 */
export type VmEventListener = (event: VmEvent) => void;
