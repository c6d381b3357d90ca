/**
 * Memory seen through an address space, as a running process (a user `VmMap`, user mode) or the kernel (the
 * `KernelMap`, supervisor mode) sees it: every access is translated through the pmap, a miss is served by the
 * map's `fault` and retried, and the bytes are real bytes of `PhysicalMemory` frames.
 *
 * Errors: not mapped → `VmError('EFAULT')`, not allowed → `VmError('EACCES')`, no frame for a page →
 * `VmError('ENOMEM')`; bad arguments → `EINVAL`. An access that fails on any page changes no byte (the pages
 * before the failing one may have been faulted in, as a CPU would have).
 */
export interface AddressSpace {
  /** `len` bytes from `va`, across page boundaries. */
  read(va: number, len: number): Uint8Array;
  /** Writes `bytes` at `va`, across page boundaries. */
  write(va: number, bytes: Uint8Array): void;
  /** The little-endian 32-bit word at `va` (any alignment), unsigned. */
  read32(va: number): number;
  /** Writes the little-endian 32-bit word `value` at `va` (any alignment). */
  write32(va: number, value: number): void;
}
