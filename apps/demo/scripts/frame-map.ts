// Renders the README picture: the frame map of the narrated scenario on sv39 at its peak, as a standalone SVG.
// `npx -y pnpm@10.34.8 run frame-map` in apps/demo writes docs/frame-map.svg at the repository root.
import { writeFileSync } from 'node:fs';
import { sv39 } from '@vmlayers/pmap-mmu';
import { peakFrameMapSvg } from '../src/html-report.js';
import { runScenario } from '../src/scenario.js';
import { Session } from '../src/session.js';

const out = process.argv[2] ?? new URL('../../../docs/frame-map.svg', import.meta.url).pathname;
const session = runScenario(new Session({ arch: sv39 }, () => {}));
writeFileSync(out, peakFrameMapSvg(session, true));
console.log(`wrote ${out}`);
