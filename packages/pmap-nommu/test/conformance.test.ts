import { describePmapConformance } from '@vmlayers/phys/testing';
import { armv7m, createArmv7m } from '../src/index.js';

describePmapConformance(armv7m);
describePmapConformance(createArmv7m({ regions: 16 }), { title: 'pmap conformance: armv7m with 16 MPU regions' });
