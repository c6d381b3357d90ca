export { VmError, errnoCode, isVmError, ERRNO_NAMES, faultErrno } from './errors.js';
export type { Errno } from './errors.js';
export {
  Prot,
  MapFlags,
  Access,
  PageAttr,
  FaultCode,
  PageOwner,
  PageUsage,
  MAP_FLAGS_ALL,
  PROT_ALL,
} from './constants.js';
export type { FaultCodeValue, PageOwnerValue, PageUsageValue } from './constants.js';
export { FaultInjector, FAULT_SITES } from './fault-injector.js';
export type { FaultSite } from './fault-injector.js';
export { BoardMemoryMap, boards, REGION_ALIGN } from './board.js';
export type { MemoryRegion, MemoryBank, RegionKind } from './board.js';
export { PhysicalMemory, CHUNK_SIZE } from './physical-memory.js';
export type { DeviceHandler, AccessWidth } from './physical-memory.js';
export { PageAllocator } from './buddy.js';
export { MAX_FRAMES } from './frame-table.js';
export type { Frame, FrameInfo, AllocOptions, PageInfo, PageAllocatorOptions, Watermarks } from './buddy.js';
export { formatPageMap, PAGE_MARKERS } from './page-map.js';
export type { PageMapRun } from './page-map.js';
export { invariant } from './invariant.js';
export {
  hex,
  isUint,
  isPowerOfTwo,
  hasOnlyBits,
  checkUint,
  checkSize,
  checkAligned,
  checkInt,
  checkBits,
  log2Floor,
  log2Ceil,
} from './validate.js';
export type { Pmap, PmapFactory, PmapCapabilities, PmapStats, PmapTable } from './pmap.js';
