import assert from 'node:assert/strict';
import { Access, BoardMemoryMap, FaultCode, PageAllocator, PhysicalMemory } from '@vmlayers/phys';
import { createArmv7m, MpuAp } from '@vmlayers/pmap-nommu';

// A Cortex-M board with two SRAM banks, so that two processes can be kept apart by the MPU alone.
const board = new BoardMemoryMap([
  { base: 0x0800_0000, size: 0x10_0000, kind: 'reserved', name: 'flash' },
  { base: 0x2000_0000, size: 0x2_0000, kind: 'ram', name: 'sram1' },
  { base: 0x2002_0000, size: 0x1_0000, kind: 'ram', name: 'sram2' },
  { base: 0x4000_0000, size: 0x2000_0000, kind: 'device', name: 'peripherals' },
]);
// New address spaces start with the kernel code map (flash) only; each process is granted its own bank.
const arch = createArmv7m({ userMaps: 'none' });
const mem = new PhysicalMemory(board);
const alloc = new PageAllocator(mem, { pageSize: arch.pageSize });

const kernel = arch.createKernel(mem, alloc, board);
for (const r of kernel.layout.regions) {
  console.log(`region ${r.slot}: ${r.map.padEnd(12)} base 0x${r.base.toString(16)} size 0x${r.size.toString(16)} srd 0x${r.srd.toString(16)}`);
}

const a = arch.createUser(kernel);
const b = arch.createUser(kernel);
a.addMap('sram1');
b.addMap('sram2');

const inA = 0x2000_1000;
const inB = 0x2002_0200;
a.activate(); // writes RASR.ENABLE bits only: region addresses never change
assert.equal(a.translate(inA, Access.WRITE | Access.USER), inA); // identity translation
assert.equal(a.translate(inB, Access.READ | Access.USER), FaultCode.NOT_MAPPED); // no region: background fault
assert.equal(a.translate(inB, Access.READ), inB); // privileged code falls back to the default map (PRIVDEFENA)
assert.equal(a.translate(0x0800_0000, Access.EXEC | Access.USER), 0x0800_0000); // kernel code: in every mask
assert.equal(a.translate(0x0800_0000, Access.WRITE), FaultCode.PROTECTION); // flash is read-only

b.activate();
assert.equal(b.translate(inB, Access.WRITE | Access.USER), inB);
assert.equal(b.translate(inA, Access.READ | Access.USER), FaultCode.NOT_MAPPED);
console.log(`enabled regions with b loaded: 0b${kernel.mpu.enabledMask.toString(2)}`);

// A stack guard: a 256-byte no-access region in a free slot; it outranks the lower-numbered SRAM region.
kernel.mpu.program(7, { base: 0x2002_0000, size: 256, ap: MpuAp.NO_ACCESS, xn: true });
b.addRegion(7);
assert.equal(b.translate(0x2002_0080, Access.READ | Access.USER), FaultCode.PROTECTION);
assert.equal(b.translate(0x2002_0100, Access.READ | Access.USER), 0x2002_0100);
// tables(): the regions b holds, with the bytes each covers (enabled subregions only).
for (const t of b.tables()) console.log(`table 0x${t.pa.toString(16)}: ${t.entries} bytes`);
