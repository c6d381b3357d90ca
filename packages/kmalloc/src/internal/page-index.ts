/** Most pages the direct window covers (4 MiB of Int32Array); pages beyond it go to the hash table. */
const MAX_WINDOW = 1 << 20;

/**
 * Page number → zone id, for kfree: a direct window (an Int32Array over the span of page numbers seen, grown on
 * demand: kernel heaps are clustered, a buffer heap's pages are 0 … n) and, for pages too far from it, an
 * open-addressing hash table (linear probing, backward-shift deletion) in
 * typed arrays, so finding a block's zone is one multiply and, almost always, one probe — where a search over zones
 * sorted by address took ~11 dependent loads and its splices moved the array on every zone made or released.
 * Every page of a zone has an entry (a block of a multi-page zone may start on any of its pages).
 */
export class PageIndex {
  /** The direct window: `win[pn - lo]` is page pn's zone or -1 (read inline by kfree; set only here). */
  win = new Int32Array(0);
  /**
   * Two words per window page, for kfree's inline path: the block word (in kmalloc's link array) of the first block
   * starting on the page, or -1 when the page has no such fast entry; and the page's class and block shift
   * (`class << 5 | shift`). Set by {@link setFast}, cleared with the page.
   */
  fast = new Int32Array(0);
  lo = 0;
  private keys: Float64Array;
  private vals: Int32Array;
  private mask: number;
  private shift: number;
  /** Entries in the hash table. */
  private size = 0;
  /** Entries in the window. */
  private count = 0;

  /** Entries held. */
  get entries(): number {
    return this.count + this.size;
  }

  constructor(capacity = 64) {
    const bits = Math.max(4, Math.ceil(Math.log2(capacity)));
    this.keys = new Float64Array(1 << bits).fill(-1);
    this.vals = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  private slot(pn: number): number {
    // Low and high words folded: page numbers above 2^32 (64-bit kernel addresses) hash as well as small ones.
    return Math.imul((pn >>> 0) ^ ((pn / 4294967296) | 0), 0x9e3779b1) >>> this.shift;
  }

  /** The zone holding page `pn`, or -1. */
  get(pn: number): number {
    const k = pn - this.lo;
    if (k >= 0 && k < this.win.length) return this.win[k];
    return this.size === 0 ? -1 : this.far(pn);
  }

  private far(pn: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let s = this.slot(pn); ; s = (s + 1) & mask) {
      const k = keys[s];
      if (k === pn) return this.vals[s];
      if (k === -1) return -1;
    }
  }

  set(pn: number, zone: number): void {
    const k = pn - this.lo;
    if (k >= 0 && k < this.win.length) {
      if (this.win[k] === -1) this.count++;
      this.win[k] = zone;
      return;
    }
    if (this.widen(pn)) {
      this.win[pn - this.lo] = zone;
      this.count++;
      return;
    }
    this.setFar(pn, zone);
  }

  // Grows the window to cover pn when the span stays within MAX_WINDOW.
  private widen(pn: number): boolean {
    const n = this.win.length;
    if (n === 0) {
      this.lo = Math.max(0, pn - 255);
      this.win = new Int32Array(512).fill(-1);
      this.fast = new Int32Array(1024).fill(-1);
      return true;
    }
    const lo = Math.min(this.lo, pn);
    const hi = Math.max(this.lo + n, pn + 1);
    if (hi - lo > MAX_WINDOW) return false;
    // Doubling (within the limit) keeps growth amortised; the window never moves past page 0.
    const len = Math.min(MAX_WINDOW, Math.max(hi - lo, 2 * n));
    const newLo = pn < this.lo ? Math.max(0, hi - len) : lo;
    const win = new Int32Array(len).fill(-1);
    win.set(this.win, this.lo - newLo);
    this.win = win;
    const fast = new Int32Array(2 * len).fill(-1);
    fast.set(this.fast, 2 * (this.lo - newLo));
    this.fast = fast;
    this.lo = newLo;
    // No hashed page can fall inside: a page went to the hash because the window's span with it passed
    // MAX_WINDOW, and the window only ever grows to spans below that.
    return true;
  }

  private setFar(pn: number, zone: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const keys = this.keys;
    let s = this.slot(pn);
    while (keys[s] !== -1 && keys[s] !== pn) s = (s + 1) & this.mask;
    if (keys[s] === -1) this.size++;
    keys[s] = pn;
    this.vals[s] = zone;
  }

  /** Sets page pn's fast entry (see {@link fast}) when the page is in the window; pn must be indexed already. */
  setFast(pn: number, word: number, info: number): void {
    const k = pn - this.lo;
    if (k >= 0 && k < this.win.length) {
      this.fast[2 * k] = word;
      this.fast[2 * k + 1] = info;
    }
  }

  delete(pn: number): void {
    const k = pn - this.lo;
    if (k >= 0 && k < this.win.length) {
      if (this.win[k] !== -1) this.count--;
      this.win[k] = -1;
      this.fast[2 * k] = -1;
      return;
    }
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let s = this.slot(pn);
    while (keys[s] !== pn) {
      if (keys[s] === -1) return;
      s = (s + 1) & mask;
    }
    this.size--;
    // Backward shift: later entries of the probe run move into the hole when their home slot allows it.
    for (let j = (s + 1) & mask; keys[j] !== -1; j = (j + 1) & mask) {
      const home = this.slot(keys[j]);
      if (((j - home) & mask) >= ((j - s) & mask)) {
        keys[s] = keys[j];
        vals[s] = vals[j];
        s = j;
      }
    }
    keys[s] = -1;
  }

  /** Every entry, for check(). */
  forEach(fn: (pn: number, zone: number) => void): void {
    for (let k = 0; k < this.win.length; k++) if (this.win[k] !== -1) fn(this.lo + k, this.win[k]);
    for (let s = 0; s <= this.mask; s++) if (this.keys[s] !== -1) fn(this.keys[s], this.vals[s]);
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    const bits = 32 - this.shift + 1;
    this.keys = new Float64Array(1 << bits).fill(-1);
    this.vals = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    this.size = 0;
    for (let s = 0; s < keys.length; s++) if (keys[s] !== -1) this.setFar(keys[s], vals[s]);
  }
}
