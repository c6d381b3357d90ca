import { Access, PhysicalMemory, boards } from '@vmlayers/phys';
import { createWalker } from '@vmlayers/pmap-mmu';

// A guest's Sv39 tables, written by hand: root → level 1 → level 0 at the start of RAM (PTE: V R W X U A D, PPN << 10).
const mem = new PhysicalMemory(boards.ram(16 * 1024 * 1024, 0x8000_0000));
const [root, l1, l0, text, data] = [0, 1, 2, 3, 4].map((i) => 0x8000_0000 + i * 4096);
const pte = (at: number, pa: number, bits: number) => (mem.write32(at, ((pa / 4096) * 1024 + bits) >>> 0), mem.write32(at + 4, 0));
const [V, R, W, X, U] = [1, 2, 4, 8, 16];
pte(root, l1, V);
pte(l1, l0, V);
pte(l0 + 0x10 * 8, text, V | R | X | U); // va 0x10000: code
pte(l0 + 0x20 * 8, data, V | R | W | U); // va 0x20000: data; va 0x30000 is not mapped yet
let nextFrame = 0x8010_0000;

// The program: one word per instruction, op | reg << 8 | imm << 16; LW/SW address imm << 4, ADDI adds imm.
const [LW, ADDI, SW, HALT] = [1, 2, 3, 4];
const program = [LW | (1 << 8) | (0x2000 << 16), ADDI | (1 << 8) | (41 << 16), SW | (1 << 8) | (0x2000 << 16), SW | (1 << 8) | (0x3000 << 16), HALT];
program.forEach((insn, i) => mem.write32(text + 4 * i, insn >>> 0));
mem.write32(data, 1);

// The CPU: every fetch, load and store goes through the walker; a page fault runs the "kernel", then the instruction again.
const mmu = createWalker('sv39', mem);
const regs = new Int32Array(4);
const faults: string[] = [];
let pc = 0x10000;
for (let steps = 0; steps < 100; steps++) {
  const at = mmu.translate(root, pc, Access.EXEC | Access.USER);
  if (at < 0) throw new Error(`fetch fault at ${pc.toString(16)}`);
  const insn = mem.read32(at);
  const [op, rd, imm] = [insn & 0xff, (insn >>> 8) & 3, insn >>> 16];
  if (op === HALT) break;
  if (op === ADDI) regs[rd] += imm;
  else {
    const pa = mmu.translate(root, imm << 4, (op === SW ? Access.WRITE : Access.READ) | Access.USER);
    if (pa < 0) {
      // The guest kernel's page-fault handler: demand-map a fresh frame for a store, then sfence.vma and retry.
      const { cause, va, kind } = mmu.fault;
      faults.push(`scause ${cause} stval 0x${va.toString(16)} (${kind})`);
      if (cause !== 15) throw new Error('unexpected fault');
      pte(l0 + ((va >>> 12) & 511) * 8, nextFrame, V | R | W | U);
      nextFrame += 4096;
      mmu.sfenceVma(va);
      continue;
    }
    if (op === LW) regs[rd] = mem.read32(pa);
    else mem.write32(pa, regs[rd]);
  }
  pc += 4;
}

export const result = { r1: regs[1], data: mem.read32(data), heap: mem.read32(0x8010_0000), faults, stats: mmu.stats() };
console.log(result);
