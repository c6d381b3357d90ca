import { formatMapLine } from '@vmlayers/mapper';
import type { Vm } from '../vm.js';

/**
 * The mappings of process `pid` exactly as Linux prints `/proc/<pid>/maps`: `start-end perms offset 00:00 inode`
 * then the object's name (`[anon]`, `[shared anon]`, an object's name), one line per map entry, each ending in a
 * newline; the inode column is the object's id (0 for anonymous memory). Unknown pid → `VmError('ENOENT')`.
 *
 * @example
 * ```ts
 * console.log(formatMaps(vm, p.pid));
 * // 00001000-00005000 rw-p 00000000 00:00 0                                 [anon]
 * ```
 */
export function formatMaps(vm: Vm, pid: number): string {
  const end = vm.arch.userRange[1];
  return vm
    .maps(pid)
    .map((m) => `${formatMapLine({ ...m, name: m.object, inode: m.objectId }, end)}\n`)
    .join('');
}
