/*
 * What every page-table walker shares: the per-call options, the reused fault record, the result codes and the
 * argument checks. The walkers translate over tables a guest wrote into `PhysicalMemory` themselves, from the root
 * the caller gives; nothing here allocates on the hot path or throws for a fault (faults are results).
 */
import { FaultCode, VmError, hex } from '@vmlayers/phys';
// For the TSDoc links only.
import type { X86Walker } from './x86.js';

/**
 * The formats a walker can be made for: RISC-V `sv32`, `sv39`, `sv48`; x86 `ia32` (32-bit paging, optional 4 MiB
 * pages), `pae` (3-level PAE paging with NX) and `x86-64` (4-level paging).
 */
export type WalkFormat = 'sv32' | 'sv39' | 'sv48' | 'ia32' | 'pae' | 'x86-64';

/** The formats of {@link WalkFormat}, in the order they were added. */
export const WALK_FORMATS: readonly WalkFormat[] = Object.freeze(['sv32', 'sv39', 'sv48', 'ia32', 'pae', 'x86-64'] as const);

/**
 * The privilege state of one access, the part an emulator keeps in CPU registers rather than in the walker.
 * Every field is optional and false/0 when absent.
 */
export interface TranslateOptions {
  /**
   * User-mode access (RISC-V U-mode, x86 CPL 3). The same as setting `Access.USER` in the access code; either
   * one makes the access a user-mode one.
   */
  readonly user?: boolean;
  /**
   * Supervisor may touch user pages. RISC-V: `sstatus.SUM` (loads and stores only; a supervisor fetch from a U page
   * faults whatever SUM says). x86: `EFLAGS.AC`, which lifts SMAP for explicit supervisor data accesses (only
   * meaningful with the walker's `smap` option; without SMAP the supervisor reaches user data anyway).
   */
  readonly sum?: boolean;
  /** RISC-V `sstatus.MXR`: loads may read execute-only pages. Ignored by the x86 walkers (no such control). */
  readonly mxr?: boolean;
  /**
   * The address-space tag the TLB entries of this access carry: RISC-V `satp.ASID`, x86 the PCID (CR3 bits 11:0;
   * keep 0 unless the walker was made with `pcide`; absent, the PCID of the walker's last `loadCr3`). An integer
   * in `[0, 2^16)`; the format's own width is checked (Sv32 9 bits, Sv39/Sv48 16 bits, PCID 12 bits).
   */
  readonly asid?: number;
}

/**
 * Why a walk stopped, in a few words:
 * - `invalid`: V=0 (RISC-V) or P=0 (x86) in an entry of the walk.
 * - `reserved`: a bit or encoding the manual reserves is set (x86: the RSVD error-code bit; RISC-V: bits 63–54
 *   outside what Svpbmt/Svnapot define, PBMT=3, N or PBMT or D/A/U on a pointer).
 * - `write-only`: RISC-V W=1 with R=0, a reserved encoding with a name of its own.
 * - `no-leaf`: RISC-V a pointer PTE in the last-level table.
 * - `misaligned`: a RISC-V superpage whose PPN is not aligned to its size.
 * - `permission`: the R/W/X/U rules (with SUM, MXR, WP, SMEP, SMAP, NX) deny the access.
 * - `accessed`, `dirty`: Svade: A=0, or a store with D=0 (RISC-V only; x86 always sets them in RAM).
 * - `non-canonical`: the upper virtual-address bits are not a sign extension (RISC-V page fault, x86 #GP).
 * - `pte-access`: a page-table entry lies outside RAM (RISC-V: the access fault of the access type; x86: a machine
 *   check, vector 18, see {@link X86Walker}).
 * - `pa-range`: the leaf maps memory at or above 2^53, which no `PhysicalMemory` holds and a number cannot carry;
 *   reported as the access fault the bus would raise.
 * - `none`: no fault yet (the record's initial state).
 */
export type WalkFaultKind =
  | 'none'
  | 'invalid'
  | 'reserved'
  | 'write-only'
  | 'no-leaf'
  | 'misaligned'
  | 'permission'
  | 'accessed'
  | 'dirty'
  | 'non-canonical'
  | 'pte-access'
  | 'pa-range';

/**
 * The details of the last fault a walker reported, in one record the walker reuses (read it right after a negative
 * `translate` result; the next faulting call overwrites it, a successful one leaves it alone).
 */
export class WalkFault {
  /** The negative code `translate` returned (a `FaultCode` value). */
  result = 0;
  /**
   * The architecture's exception: RISC-V `scause` (12 instruction, 13 load, 15 store/AMO page fault; 1, 5, 7 the
   * matching access faults); x86 the vector (14 #PF, 13 #GP, 18 #MC for a page-table entry outside RAM).
   */
  cause = 0;
  /** x86 the error code pushed with the exception (#PF: P W/R U/S RSVD I/D bits; #GP: 0). RISC-V: 0. */
  code = 0;
  /** The faulting virtual address as the caller gave it: what RISC-V writes to `stval`, x86 to CR2 on a #PF. */
  va = 0;
  /**
   * The level of the table whose entry stopped the walk, counted from the leaf tables up (0 = last-level table;
   * Sv39's root is 2, x86-64's PML4 is 3, PAE's PDPTE registers are 2); -1 when no entry was read (non-canonical).
   */
  level = -1;
  /** The access code of the faulting access (`Access` bits, USER included when the access was a user one). */
  access = 0;
  /** What stopped the walk, see {@link WalkFaultKind}. */
  kind: WalkFaultKind = 'none';
}

/** Counters of a walker's TLB. */
export interface WalkerStats {
  /** Translations answered from the TLB. */
  readonly hits: number;
  /** Translations that walked the tables (successful or not). */
  readonly misses: number;
  /** Flush operations performed (`sfenceVma`, `invlpg`, `loadCr3` that flushed, `flushAll`). */
  readonly flushes: number;
  /** Faults reported. */
  readonly faults: number;
  /** Valid TLB slots now. */
  readonly entries: number;
}

/** What every walker offers, whatever its family; the family classes add their ISA's flush operations. */
export interface PageWalker {
  /** The format this walker walks. */
  readonly format: WalkFormat;
  /** The fault record of the last fault (see {@link WalkFault}). */
  readonly fault: WalkFault;
  /**
   * Translates `va` for an access (`Access` bits: exactly one of READ, WRITE, READ|WRITE (an AMO or
   * read-modify-write), EXEC; plus USER for a user-mode access) over the tables rooted at `root` (the physical
   * address of the root table). Returns the physical address (≥ 0), or a negative `FaultCode` with the details in
   * {@link PageWalker.fault}. Never throws for a fault; arguments that are no address or access code throw
   * `VmError('EINVAL')`.
   */
  translate(root: number, va: number, access: number, options?: TranslateOptions): number;
  /** Drops every TLB entry, global ones included. */
  flushAll(): void;
  /** The TLB's counters. */
  stats(): WalkerStats;
}

/** @internal The `FaultCode` a walk fault kind is reported as. */
export function resultOf(kind: WalkFaultKind): number {
  switch (kind) {
    case 'invalid':
      return FaultCode.NOT_MAPPED;
    case 'permission':
    case 'accessed':
    case 'dirty':
      return FaultCode.PROTECTION;
    case 'non-canonical':
      return FaultCode.NON_CANONICAL;
    default:
      return FaultCode.BAD_ADDRESS;
  }
}

/**
 * @internal The kinds an access code asks for, by its low three bits: READ, WRITE, READ|WRITE and EXEC are
 * accesses a CPU makes; 0 and EXEC combined with a data kind are no access (0 here, refused by the caller).
 */
export const KINDS_OF = Int8Array.of(0, 1, 2, 3, 4, 0, 0, 0);

/** @internal Throws `EINVAL` for an access code that is not one of the accesses {@link PageWalker.translate} takes. */
export function checkAccess(access: unknown): asserts access is number {
  if (typeof access !== 'number' || access !== (access & 15) || KINDS_OF[access & 7] === 0) {
    throw new VmError(
      'EINVAL',
      `access must be READ (1), WRITE (2), READ|WRITE (3) or EXEC (4), optionally with USER (8), got ${hex(access)}`,
    );
  }
}

/** @internal Throws `EINVAL` unless `root` is a physical address aligned to `align` bytes. */
export function checkRoot(root: unknown, align: number, limit: number): asserts root is number {
  if (typeof root !== 'number' || !Number.isInteger(root) || root < 0 || root >= limit || root % align !== 0) {
    throw new VmError('EINVAL', `root must be the ${align}-byte aligned physical address of the root table below ${hex(limit)}, got ${hex(root)}`);
  }
}

/** @internal Throws `EINVAL` unless `asid` is an integer in `[0, 2^bits)`. */
export function checkAsid(asid: unknown, bits: number, name: string): asserts asid is number {
  if (typeof asid !== 'number' || !Number.isInteger(asid) || asid < 0 || asid >= 2 ** bits) {
    throw new VmError('EINVAL', `${name} must be an integer in [0, ${hex(2 ** bits)}), got ${hex(asid)}`);
  }
}

/** @internal Throws `EINVAL` unless `options` is undefined or an object. */
export function checkOptionsObject(options: unknown, name: string): void {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new VmError('EINVAL', `${name} must be an object, got ${hex(options)}`);
  }
}
