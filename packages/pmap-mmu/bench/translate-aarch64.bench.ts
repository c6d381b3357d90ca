// AArch64 rows of the pmap-mmu benchmarks (see translate.ts), in a process of their own: 8-byte descriptors as Sv39,
// so Sv39's target. The sets lie below 4 GiB (TTBR0, page numbers far below 2^31): the rows measure the usual path.
import { aarch64 } from '../src/index.js';
import { TITLE, enterRemove, translation } from './translate.js';

export const title = `aarch64 ${TITLE}`;

export default function* suite(): Generator<object | string> {
  yield* translation(aarch64, 4);
  yield* enterRemove(aarch64);
}
