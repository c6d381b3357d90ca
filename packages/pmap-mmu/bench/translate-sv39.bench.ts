// Sv39 rows of the pmap-mmu benchmarks (see translate.ts), in a process of their own.
import { sv39 } from '../src/index.js';
import { TITLE, enterRemove, translation } from './translate.js';

export const title = `sv39 ${TITLE}`;

export default function* suite(): Generator<object | string> {
  yield* translation(sv39, 4);
  yield* enterRemove(sv39);
}
