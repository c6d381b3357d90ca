// ia32 rows of the pmap-mmu benchmarks (see translate.ts), in a process of their own.
import { ia32 } from '../src/index.js';
import { TITLE, enterRemove, translation } from './translate.js';

export const title = `ia32 ${TITLE}`;

export default function* suite(): Generator<object | string> {
  yield* translation(ia32, 3);
  yield* enterRemove(ia32);
}
