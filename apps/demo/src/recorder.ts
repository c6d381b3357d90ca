import type { VmEvent } from '@vmlayers/memobj';

/** Who a user frame was taken for, as the `alloc` event said. */
export interface FrameOwner {
  /** The process whose fault or mapping took the frame (absent when none did). */
  pid?: number;
  /** The memory object's name (`[anon]`, `[shared anon]`, `[image]`, …). */
  object: string;
  size: number;
}

/**
 * The `onEvent` listener of the demo's vm: keeps the events since the last {@link take} (a step narrates them)
 * and, from `alloc`/`free`, which process and object each user frame belongs to (the frame map colours by it).
 */
export class Recorder {
  private pending: VmEvent[] = [];
  /** Live user frames by physical address. */
  readonly owners = new Map<number, FrameOwner>();
  /** Events seen in all. */
  count = 0;

  readonly listener = (e: VmEvent): void => {
    this.count++;
    this.pending.push({ ...e });
    if (e.type === 'alloc' && e.pa !== undefined) {
      this.owners.set(e.pa, { pid: e.pid, object: e.object ?? '?', size: e.size ?? 0 });
    } else if (e.type === 'free' && e.pa !== undefined) {
      this.owners.delete(e.pa);
    }
  };

  /** How many events {@link take} would return now. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** The events {@link take} would return now, left in place. */
  peek(): readonly VmEvent[] {
    return this.pending;
  }

  /** The events since the previous call. */
  take(): VmEvent[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}
