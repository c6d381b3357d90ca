import assert from 'node:assert/strict';
import { Access, FaultCode, PageAllocator, PhysicalMemory, boards } from '@vmlayers/phys';
import { Armv8mAp, armv8m, createArmv8m } from '@vmlayers/pmap-nommu';

// A Cortex-M33: 1 MiB flash, SRAM1 (192 KiB) and SRAM2 (64 KiB), peripherals. One PMSAv8 region per board map.
const board = boards.get(armv8m.defaultBoard);
const arch = createArmv8m({ userMaps: 'none' });
const mem = new PhysicalMemory(board);
const kernel = arch.createKernel(mem, new PageAllocator(mem, { pageSize: arch.pageSize }), board);
for (const r of kernel.layout.regions) {
  const attr = kernel.mpu.attribute(r.attrIndx);
  console.log(`region ${r.slot}: ${r.map.padEnd(12)} [0x${r.base.toString(16)}, 0x${r.limit.toString(16)}] ap ${r.ap} xn ${r.xn} ${attr.type}`);
}

const task = arch.createUser(kernel);
task.addMap('sram2');
task.activate(); // writes RLAR.EN bits only
const va = 0x2003_0100;
assert.equal(task.translate(va, Access.WRITE | Access.USER), va);
assert.equal(task.translate(0x2000_0100, Access.READ | Access.USER), FaultCode.NOT_MAPPED); // SRAM1: not its map

// A region programmed at run time over SRAM2: where two enabled regions overlap, every access faults (ARMv8-M has
// no region priority, unlike ARMv7-M).
kernel.mpu.program(8, { base: 0x2003_0000, limit: 0x2003_007f, ap: Armv8mAp.RO });
task.addRegion(8);
assert.equal(task.translate(0x2003_0040, Access.READ | Access.USER), FaultCode.PROTECTION);
assert.equal(task.translate(0x2003_0080, Access.READ | Access.USER), 0x2003_0080);
console.log(`MPU_TYPE 0x${kernel.mpu.type.toString(16)}, enabled regions 0b${kernel.mpu.enabledMask.toString(2)}`);
