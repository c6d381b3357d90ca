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
  | {
      /** Discriminant: a fault reached an object, or (with `result`) an access was refused. */
      type: 'fault';
      /** The process whose access faulted. */
      pid: number;
      /**
       * The faulting address: the page's (page-aligned) when the fault reached an object; the first byte that was
       * refused, which need not be page-aligned, with `result`.
       */
      va: number;
      /** The access, as `Access` bits (`READ`, `WRITE`, `EXEC`, with `USER` for a process's access). */
      access: number;
      /** Name of the mapping's object or memory (`[anon]`, `[shared anon]`, an object's name); absent with `result`. */
      object?: string;
      /** Present only for a refused access: the errno the process's call throws. Absent when the fault was served. */
      result?: AccessRefusal;
    }
  /** A page shared copy-on-write was copied for a write: `from` is the frame copied, `pa` the copy. */
  | {
      /** Discriminant: a private copy of a page was made for a write. */
      type: 'cow';
      /** The process whose write fault made the copy. */
      pid: number;
      /** Virtual address of the page (page-aligned). */
      va: number;
      /** Physical address of the new frame, the process's private copy (now mapped writable). */
      pa: number;
      /** Physical address of the frame copied: the object's page, or an anonymous page still shared after fork. */
      from: number;
    }
  /** A fresh zeroed frame became an anonymous page. */
  | {
      /** Discriminant: a never-written anonymous page got a zeroed frame of its own. */
      type: 'zero-fill';
      /** The process whose fault took the frame. */
      pid: number;
      /** Virtual address of the page (page-aligned). */
      va: number;
      /** Physical address of the zeroed frame (an `alloc` event for it precedes this one). */
      pa: number;
    }
  /** A read of never-written anonymous memory mapped the shared zero page `pa`, read-only (no frame taken). */
  | {
      /** Discriminant: a read mapped the shared zero page. */
      type: 'zero-page';
      /** The process whose read fault mapped it. */
      pid: number;
      /** Virtual address of the page (page-aligned), now mapped read-only: its first write faults again. */
      va: number;
      /** Physical address of the shared zero page, the same for every process of the `Vm` (`vm.zeroPage`). */
      pa: number;
    }
  /**
   * A frame for user memory (anonymous page, page-cache page, no-MMU block) was taken (`size` bytes); `pid` and
   * `va` when a process's fault or mapping took it.
   */
  | {
      /** Discriminant: a frame for user memory was taken from the page allocator. */
      type: 'alloc';
      /** The process whose fault or mapping took the frame; absent when none did. */
      pid?: number;
      /** Virtual address of the page the frame was taken for; absent for a no-MMU block and with no fault behind it. */
      va?: number;
      /** Physical address of the frame (of the first page for a no-MMU block). */
      pa: number;
      /** Bytes taken: one page, or a whole no-MMU block (a multiple of the page size). */
      size: number;
      /** Name of the object or memory the frame is for (`[anon]`, `[shared anon]`, an object's name). */
      object: string;
    }
  /** A frame for user memory was given back. */
  | {
      /** Discriminant: a frame of user memory went back to the page allocator. */
      type: 'free';
      /** Physical address of the frame (of the first page for a no-MMU block). */
      pa: number;
      /** Bytes given back: one page, or a whole no-MMU block, as the matching `alloc` event took. */
      size: number;
      /** Name of the object or memory the frame was for, as in its `alloc` event. */
      object: string;
    }
  /** `vm.spawn()` made a process (its image, if any, is mapped). */
  | {
      /** Discriminant: a new process was spawned. */
      type: 'spawn';
      /** The new process's pid. */
      pid: number;
    }
  /** `process.fork()` made a child with a copy-on-write copy of the parent's address space. */
  | {
      /** Discriminant: a process forked. */
      type: 'fork';
      /** The child's pid. */
      pid: number;
      /** The parent's pid: the process `fork()` was called on. */
      parent: number;
    }
  /** `process.exit()` ended a process; the `free` events of frames given back with its map come before this one. */
  | {
      /** Discriminant: a process exited. */
      type: 'exit';
      /** The pid of the process that exited (never reused by the same `Vm`). */
      pid: number;
    }
  /** Reclaim chose frame `pa` and took it out of every page table (the policy's victim). */
  | {
      /** Discriminant: a page was evicted. */
      type: 'evict';
      /** The frame evicted. */
      pa: number;
      /** What the page was (`[anon]`). */
      object: string;
    }
  /** The evicted page was written to swap slot `slot`; its frame is freed next (a `free` event). */
  | {
      /** Discriminant: a page went to swap. */
      type: 'swap-out';
      /** The frame written. */
      pa: number;
      /** The swap slot it went to. */
      slot: number;
    }
  /** A fault read a swapped-out page back from `slot` into frame `pa` (a major fault). */
  | {
      /** Discriminant: a page came back from swap. */
      type: 'swap-in';
      /** The process whose fault brought it back, when one did. */
      pid?: number;
      /** The page's virtual address in that process. */
      va?: number;
      /** The frame it was read into. */
      pa: number;
      /** The slot it was read from (free again). */
      slot: number;
    };

/** The `type` of a {@link VmEvent}. */
export type VmEventType = VmEvent['type'];

/**
 * Receives every {@link VmEvent}. Events are delivered in order when the operation that caused them has finished
 * changing state (just before it returns or throws), so a listener sees a consistent subsystem. A listener that
 * throws stops the delivery of that operation's remaining events, and its exception propagates out of the
 * operation — whose changes are complete, never half-done.
 */
export type VmEventListener = (event: VmEvent) => void;
