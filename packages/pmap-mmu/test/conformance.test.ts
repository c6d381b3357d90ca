import { describePmapConformance } from '@vmlayers/phys/testing';
import { aarch64, armv7a, createAarch64, ia32, sv39 } from '../src/index.js';

describePmapConformance(sv39);
describePmapConformance(ia32);
describePmapConformance(aarch64);
describePmapConformance(createAarch64({ vaBits: 39 }));
describePmapConformance(createAarch64({ vaBits: 39, hardwareAccessFlag: false }));
describePmapConformance(armv7a);
