import { createBufferHeap } from '@vmlayers/kmalloc';

// A heap over 1 MiB that you own (a SharedArrayBuffer works the same way); no kernel map, no page tables.
const heap = createBufferHeap(new ArrayBuffer(1 << 20));

// Pointers are byte offsets into the buffer.
const p = heap.malloc(100); // from the 128-byte class
heap.u8(p, 5).set([104, 101, 108, 108, 111]);
const xs = heap.view(Float64Array, heap.calloc(4, 8)); // 4 zeroed doubles
xs[0] = Math.PI;

const q = heap.realloc(p, 1000); // moves to the 1 KiB class, its bytes with it
console.log(q !== p, new TextDecoder().decode(heap.u8(q, 5)), heap.usableSize(q), xs.length);

heap.free(q);
heap.free(xs.byteOffset);
heap.kmalloc.trim(); // give back the emptied zones the heap keeps for reuse
heap.check();
console.log(heap.stats().zones, heap.stats().used);
