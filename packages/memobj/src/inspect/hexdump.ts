import { VmError, hex, isUint } from '@vmlayers/phys';

function hex2(b: number): string {
  return b.toString(16).padStart(2, '0');
}

/**
 * `bytes` as `hexdump -C` prints them, labelled from `address`: 16 bytes a line (`address  8 bytes  8 bytes
 * |ascii|`), a line identical to the one before shown once and then `*`, and the end address on the last line.
 * Addresses take at least 8 hex digits. `bytes` not a `Uint8Array`, or `address` not a non-negative integer that
 * keeps the end below 2^53 → `VmError('EINVAL')`. Use it on what a process reads: `hexdump(p.read(va, 256), va)` (the read
 * faults pages in as `/proc/<pid>/mem` does).
 */
export function hexdump(bytes: Uint8Array, address = 0): string {
  if (!(bytes instanceof Uint8Array)) throw new VmError('EINVAL', `bytes must be a Uint8Array, got ${hex(bytes)}`);
  if (!isUint(address) || !Number.isSafeInteger(address + bytes.length)) {
    throw new VmError('EINVAL', `address must be a non-negative integer below 2^53 - length, got ${hex(address)}`);
  }
  const end = address + bytes.length;
  const width = Math.max(8, end.toString(16).length);
  const lines: string[] = [];
  let previous = '';
  let starred = false;
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, Math.min(i + 16, bytes.length));
    const key = row.length === 16 ? row.join(',') : '';
    if (key !== '' && key === previous) {
      if (!starred) lines.push('*');
      starred = true;
      continue;
    }
    previous = key;
    starred = false;
    let h = '';
    for (let j = 0; j < 16; j++) h += (j < row.length ? hex2(row[j]) : '  ') + (j === 7 ? '  ' : ' ');
    let text = '';
    for (const c of row) text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
    lines.push(`${(address + i).toString(16).padStart(width, '0')}  ${h} |${text}|`);
  }
  lines.push(end.toString(16).padStart(width, '0'));
  return `${lines.join('\n')}\n`;
}
