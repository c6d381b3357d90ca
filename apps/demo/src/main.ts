import { parseArgs } from 'node:util';
import { VmError, boards, isVmError } from '@vmlayers/phys';
import type { BoardMemoryMap } from '@vmlayers/phys';
import { runBootScenario } from './boot.js';
import { bytes, parseSize } from './format.js';

export const USAGE = `Usage: vmlayers-demo [options]

Boots the vmlayers memory subsystem on a board and narrates what it does.

Options:
  --board NAME       board preset (${boards.names().join(', ')}); default riscv-virt-64m
  --ram SIZE         a single RAM bank of SIZE bytes instead (e.g. 16M, 512k)
  --page-size BYTES  page size (default 4096; 512 suits stm32-512k)
  --json             one JSON object per step instead of prose
  -h, --help         this text

Exit status: 0 on success, 2 on bad usage, 1 when the subsystem reports an error.`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Runs the demo CLI with `argv` (without node and script); returns the exit status. */
export function main(argv: string[], io: Io): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        board: { type: 'string' },
        ram: { type: 'string' },
        'page-size': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(`vmlayers-demo: ${(e as Error).message}`);
    io.err('Try --help.');
    return 2;
  }
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.board && values.ram) {
    io.err('vmlayers-demo: give --board or --ram, not both');
    return 2;
  }
  const pageSize = values['page-size'] === undefined ? 4096 : parseSize(values['page-size']);
  if (!Number.isSafeInteger(pageSize)) {
    io.err(`vmlayers-demo: --page-size ${values['page-size']} is not a size`);
    return 2;
  }
  try {
    let board: BoardMemoryMap;
    if (values.ram !== undefined) {
      const size = parseSize(values.ram);
      if (!Number.isSafeInteger(size)) throw new VmError('EINVAL', `--ram ${values.ram} is not a size (try 64M)`);
      board = boards.ram(size);
    } else board = boards.get(values.board ?? 'riscv-virt-64m');
    runBootScenario(board, pageSize, (s) => {
      if (values.json) {
        io.out(JSON.stringify({ step: s.step, text: s.text, meminfo: s.info, pageMap: s.pageMap }));
        return;
      }
      io.out(`== ${s.step}`);
      io.out(s.text);
      const i = s.info;
      io.out(
        `meminfo: total ${bytes(i.total)}, free ${bytes(i.free)}, allocated ${bytes(i.alloc)} ` +
          `(boot ${bytes(i.boot)}, kernel ${bytes(i.kernel)}, app ${bytes(i.app)})`,
      );
      io.out(s.pageMap);
      io.out('');
    });
    return 0;
  } catch (e) {
    if (isVmError(e)) {
      io.err(`vmlayers-demo: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
