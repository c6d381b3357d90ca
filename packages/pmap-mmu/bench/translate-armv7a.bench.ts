// ARMv7-A rows of the pmap-mmu benchmarks (see translate.ts), in a process of their own: 4-byte descriptors and a
// two-level walk as ia32, so ia32's target.
import { armv7a } from '../src/index.js';
import { TITLE, enterRemove, translation } from './translate.js';

export const title = `armv7a ${TITLE}`;

export default function* suite(): Generator<object | string> {
  yield* translation(armv7a, 3);
  yield* enterRemove(armv7a);
}
