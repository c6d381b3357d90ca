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
