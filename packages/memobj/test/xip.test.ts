import { Access, Prot } from '@vmlayers/phys';
import { describe, expect, it } from 'vitest';
import { createVm } from '../src/index.js';
import type { Image } from '../src/index.js';
import { ARCHS, errnoOf, footprint } from './helpers.js';

// A flash (ROM) range of each architecture's default board: stm32-512k's and cortex-m33-256k's flash, the PC's
// BIOS ROM, the QEMU virt machine's firmware region (RISC-V) and kernel-image region (AArch64: its flash is a device
// window on aarch64-virt-128m), the Zynq board's kernel area (ARMv7-A).
const FLASH: Record<string, number> = {
  armv7m: 0x0801_0000,
  armv8m: 0x0801_0000,
  ia32: 0xc_0000,
  sv39: 0x8010_0000,
  aarch64: 0x4030_0000,
  armv7a: 0x0030_0000,
};
const enc = new TextEncoder();
const dec = new TextDecoder();

describe.each(ARCHS.map((a) => [a.name, a] as const))('execute in place on %s', (_, arch) => {
  const ps = arch.pageSize;
  const mmu = arch.capabilities.hasMmu;
  const text = FLASH[arch.name];
  const init = text + 16 * ps; // initialised data's bytes, also in flash

  function boot() {
    const vm = createVm({ arch });
    vm.mem.write(text, enc.encode('main: bl init; bl loop'));
    vm.mem.write(init, enc.encode('counter=7'));
    const image: Image = {
      segments: [
        { vaddr: 0x1_0000, size: 3 * ps - 100, prot: Prot.READ | Prot.EXEC, flash: text },
        { vaddr: 0x2_0000, size: ps, prot: Prot.READ | Prot.WRITE, flash: init },
        { vaddr: 0x3_0000, size: 2 * ps, prot: Prot.READ | Prot.WRITE },
      ],
    };
    return { vm, image };
  }

  it('text runs from flash where it lies, taking no RAM; data is copied to RAM', () => {
    const { vm, image } = boot();
    const app0 = vm.alloc.info().app;
    const p = vm.spawn(image);
    const [t, d, bss] = vm.maps(p.pid);
    expect(t.object).toBe(`[flash 0x${text.toString(16)}]`);
    // Without an MMU the text is at its flash address; with one, at the image's vaddr over the flash frames.
    expect(t.start).toBe(mmu ? 0x1_0000 : text);
    expect(dec.decode(p.read(t.start, 4))).toBe('main');
    if (mmu) {
      p.read(t.start + ps, 1);
      expect(vm.pmap(p.pid).resolve(t.start + ps)).toBe(text + ps);
    }
    // The MPU or the page tables let the process fetch instructions there.
    expect(vm.pmap(p.pid).translate(t.start, Access.EXEC | Access.USER)).toBe(mmu ? text : t.start);
    expect(errnoOf(() => p.write(t.start, enc.encode('x')))).toBe('EACCES');
    // Initialised data: a private copy of the flash bytes in RAM, written there, flash unchanged.
    expect(dec.decode(p.read(d.start, 9))).toBe('counter=7');
    p.write(d.start + 8, enc.encode('9'));
    expect(dec.decode(p.read(d.start, 9))).toBe('counter=9');
    expect(dec.decode(vm.mem.read(init, 9))).toBe('counter=7');
    p.write(bss.start, enc.encode('z'));
    // RAM: the data page and the bss pages (2), no text page; with an MMU page tables are RAM too.
    const appPages = (vm.alloc.info().app - app0) / ps;
    expect(appPages).toBe(mmu ? 1 + 1 : 1 + 2);
    // A second process from the same image runs the same flash bytes.
    const q = vm.spawn(image);
    expect(vm.maps(q.pid)[0].start).toBe(t.start);
    expect(dec.decode(q.read(vm.maps(q.pid)[1].start, 9))).toBe('counter=7');
    vm.check();
    p.exit();
    q.exit();
    vm.check();
  });

  it('refuses a bad flash segment with EINVAL, spawning nothing', () => {
    const { vm } = boot();
    const before = footprint(vm);
    const ram = vm.board.regions.find((r) => r.kind === 'ram')!.base;
    const bad = [
      { flash: text + 1 },
      { flash: -ps },
      { flash: '0' },
      { flash: 2 ** 60 },
      { flash: ram }, // RAM is not flash
      { flash: 0xfff0_0000 }, // not in the board's map
      { flash: text, data: new Uint8Array(4) }, // both
    ];
    for (const b of bad) {
      const seg = { vaddr: 0x1_0000, size: ps, prot: Prot.READ | Prot.EXEC, ...b };
      expect(errnoOf(() => vm.spawn({ segments: [seg as never] })), JSON.stringify(b)).toBe('EINVAL');
    }
    expect(vm.processes()).toEqual([]);
    expect(footprint(vm)).toEqual(before);
    vm.check();
  });
});
