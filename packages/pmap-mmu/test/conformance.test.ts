import { describePmapConformance } from '@vmlayers/phys/testing';
import { ia32, sv39 } from '../src/index.js';

describePmapConformance(sv39);
describePmapConformance(ia32);
