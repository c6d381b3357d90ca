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
 * pages), `pae` (3-level PAE paging with NX) and `x86-64` (4-level paging); ARM `armv7a-short` (ARMv7-A
 * short-descriptor translation) and `aarch64` (VMSAv8-64 stage 1, 4 KiB granule).
 */
export type WalkFormat = 'sv32' | 'sv39' | 'sv48' | 'ia32' | 'pae' | 'x86-64' | 'armv7a-short' | 'aarch64';

/** The formats of {@link WalkFormat}, in the order they were added. */
export const WALK_FORMATS: readonly WalkFormat[] = Object.freeze([
  'sv32',
  'sv39',
  'sv48',
  'ia32',
  'pae',
  'x86-64',
  'armv7a-short',
  'aarch64',
] as const);

/**
 * The privilege state of one access, the part an emulator keeps in CPU registers rather than in the walker.
 * Every field is optional and false/0 when absent.
 */
export interface TranslateOptions {
  /**
   * User-mode access (RISC-V U-mode, x86 CPL 3, ARM PL0/EL0: an unprivileged access). The same as setting `Access.USER` in the access code; either
   * one makes the access a user-mode one.
   */
  readonly user?: boolean;
  /**
   * Supervisor may touch user pages. RISC-V: `sstatus.SUM` (loads and stores only; a supervisor fetch from a U page
   * faults whatever SUM says). x86: `EFLAGS.AC`, which lifts SMAP for explicit supervisor data accesses (only
   * meaningful with the walker's `smap` option; without SMAP the supervisor reaches user data anyway). Ignored by
   * the ARM walkers (PSTATE.PAN is not modelled: privileged code reaches EL0 data as its AP bits allow).
   */
  readonly sum?: boolean;
  /** RISC-V `sstatus.MXR`: loads may read execute-only pages. Ignored by the x86 and ARM walkers (no such control). */
  readonly mxr?: boolean;
  /**
   * The address-space tag the TLB entries of this access carry: RISC-V `satp.ASID`, x86 the PCID (CR3 bits 11:0;
   * keep 0 unless the walker was made with `pcide`; absent, the PCID of the walker's last `loadCr3`), ARMv7-A
   * `CONTEXTIDR.ASID`, AArch64 the ASID of TTBR0_EL1 (bits 63:48; TCR_EL1.A1 = 0). An integer in `[0, 2^16)`; the
   * format's own width is checked (Sv32 9 bits, Sv39/Sv48 16 bits, PCID 12 bits, ARMv7-A 8 bits, AArch64 8 or 16
   * bits by TCR_EL1.AS).
   */
  readonly asid?: number;
  /**
   * ARM only (ignored by the others): the physical address of the table TTBR1 points at — the kernel half, while
   * `translate`'s `root` is TTBR0's. ARMv7-A: a 16 KiB aligned address below 2^32, used for addresses that
   * TTBCR.N gives to TTBR1; AArch64: aligned to its start table, used for the upper (negative) half. Absent, TTBR1
   * walks are disabled (TTBCR.PD1 / TCR_EL1.EPD1 = 1): a TLB miss there is a Translation fault.
   */
  readonly ttbr1?: number;
  /**
   * ARMv7-A only: the Domain Access Control Register, two bits per domain (0 no access, 1 client, 3 manager; 2 is
   * reserved and treated as no access). Absent: `0x5555_5555`, every domain client. The TLB keeps each entry's
   * domain and checks it against this value on every hit, as the hardware does: a DACR change needs no flush.
   */
  readonly dacr?: number;
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
 * - `accessed`, `dirty`: Svade: A=0, or a store with D=0 (RISC-V; x86 always sets them in RAM). ARM: `accessed` is
 *   an Access flag fault (AF=0 without hardware update: ARMv7-A with SCTLR.AFE, AArch64 without TCR.HA);
 *   `dirty` an AArch64 Permission fault on a write to a DBM page whose AP[2] is still set, without TCR.HD.
 * - `domain`: ARMv7-A a Domain fault (the entry's domain is "no access" in the DACR).
 * - `address-size`: AArch64 an Address size fault (an output or next-table address at or above TCR.IPS's size, or
 *   descriptor bits 49:48 set).
 * - `non-canonical`: the upper virtual-address bits are not a sign extension (RISC-V page fault, x86 #GP;
 *   AArch64: the address is in neither TTBR's range, a level 0 Translation fault).
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
  | 'domain'
  | 'address-size'
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
   * matching access faults); x86 the vector (14 #PF, 13 #GP, 18 #MC for a page-table entry outside RAM); ARMv7-A
   * the exception's vector offset (0x0C prefetch abort, 0x10 data abort); AArch64 ESR_EL1.EC (0x20/0x21 instruction
   * abort from EL0/EL1, 0x24/0x25 data abort from EL0/EL1).
   */
  cause = 0;
  /**
   * x86 the error code pushed with the exception (#PF: P W/R U/S RSVD I/D bits; #GP: 0). RISC-V: 0. ARMv7-A the
   * IFSR/DFSR value (short-descriptor format: FS[3:0] in bits 3:0, FS[4] in bit 10, the domain in bits 7:4 when
   * the walk found one, WnR bit 11 for a data abort that writes). AArch64 the ESR_EL1 value: EC in bits 31:26, IL
   * (bit 25) set, and the ISS: the DFSC/IFSC in bits 5:0, WnR bit 6 for a data abort that writes.
   */
  code = 0;
  /**
   * The faulting virtual address as the caller gave it: what RISC-V writes to `stval`, x86 to CR2 on a #PF, ARM to
   * DFAR/IFAR (ARMv7-A) or FAR_EL1 (AArch64).
   */
  va = 0;
  /**
   * The level of the table whose entry stopped the walk, counted from the leaf tables up (0 = last-level table;
   * Sv39's root is 2, x86-64's PML4 is 3, PAE's PDPTE registers are 2, ARMv7-A's first-level table 1, AArch64's
   * level 0 table 3 — the ARM manuals number from the top: AArch64 lookup level n is `3 - level` here); -1 when no
   * entry was read (non-canonical, or a disabled TTBR1 walk).
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
  /** Flush operations performed (`sfenceVma`, `invlpg`, `loadCr3` that flushed, the ARM TLBI operations, `flushAll`). */
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
    case 'domain':
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
