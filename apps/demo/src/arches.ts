import type { PmapFactory } from '@vmlayers/phys';
import { aarch64, armv7a, ia32, sv39 } from '@vmlayers/pmap-mmu';
import { armv7m, armv8m } from '@vmlayers/pmap-nommu';

/** The architectures the demo runs on, by the name `--arch` takes. */
export const ARCHES: Readonly<Record<string, PmapFactory>> = { sv39, ia32, aarch64, armv7a, armv7m, armv8m };

export const ARCH_NAMES = Object.keys(ARCHES);
