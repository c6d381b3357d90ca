export {
  MpuAp,
  AP_RESERVED,
  MIN_REGION_SIZE,
  MIN_SUBREGION_REGION_SIZE,
  MAX_REGION_SIZE,
  SUBREGIONS,
  RBAR_ADDR_MASK,
  RBAR_VALID,
  RBAR_REGION_MASK,
  RASR_ENABLE,
  RASR_DEFINED_BITS,
  encodeRbar,
  decodeRbar,
  encodeRasr,
  decodeRasr,
  coveredBytes,
} from './encoding.js';
export type { RbarFields, RasrFields, RasrInit, MpuRegion } from './encoding.js';
export { RegionMpu, MpuCtrl, isDefaultXn } from './region-mpu.js';
export { Mpu } from './mpu.js';
export type { MpuOptions } from './mpu.js';
export { computeRegions, coverRange, defaultRegionAttributes } from './regions.js';
export type { RegionCover, RegionAttributes, LayoutSlot, LayoutRegion, RegionLayout, RegionLayoutOptions } from './regions.js';
export { RegionPmap, MpuPmap, MpuSystem } from './mpu-pmap.js';
export { MpuFactory, MPU_PAGE_SIZE } from './mpu-factory.js';
export type { MpuArchOptions } from './mpu-factory.js';
export { armv7m, createArmv7m, Armv7mFactory, ARMV7M_PAGE_SIZE } from './armv7m.js';
export type { Armv7mOptions } from './armv7m.js';
export {
  Armv8mAp,
  Armv8mSh,
  ARMV8M_GRANULE,
  ARMV8M_ADDR_MASK,
  RLAR_EN,
  RLAR_DEFINED_BITS,
  encodeArmv8mRbar,
  decodeArmv8mRbar,
  encodeRlar,
  decodeRlar,
  encodeMairAttr,
  decodeMairAttr,
} from './armv8m-encoding.js';
export type { Armv8mRbarFields, RlarFields, Armv8mRegion, Armv8mRegionInit, MemoryAttributes } from './armv8m-encoding.js';
export { Armv8mMpu } from './armv8m-mpu.js';
export type { Armv8mMpuOptions } from './armv8m-mpu.js';
export { computeArmv8mRegions, defaultArmv8mAttributes, Armv8mAttr, ARMV8M_DEFAULT_MAIR } from './armv8m-regions.js';
export type { Armv8mRegionAttributes, Armv8mLayoutRegion, Armv8mLayout, Armv8mLayoutOptions } from './armv8m-regions.js';
export { Armv8mPmap } from './armv8m-pmap.js';
export { armv8m, createArmv8m, Armv8mFactory } from './armv8m.js';
export type { Armv8mOptions } from './armv8m.js';
