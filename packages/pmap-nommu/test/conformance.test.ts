import { describePmapConformance } from '@vmlayers/phys/testing';
import { armv7m, armv8m, createArmv7m, createArmv8m } from '../src/index.js';

describePmapConformance(armv7m);
describePmapConformance(createArmv7m({ regions: 16 }), { title: 'pmap conformance: armv7m with 16 MPU regions' });
describePmapConformance(armv8m);
describePmapConformance(createArmv8m({ regions: 8 }), { title: 'pmap conformance: armv8m with 8 MPU regions' });
