import { describe, expect, it } from 'vitest';
import {
  FaultCode,
  checkAligned,
  checkBits,
  checkInt,
  checkSize,
  checkUint,
  faultErrno,
  hasOnlyBits,
  hex,
  isPowerOfTwo,
  isUint,
  log2Ceil,
  log2Floor,
} from '../src/index.js';
import { code } from './support.js';

class Thing {}

// Values no address, size or bit set may be: each refused everywhere below.
const JUNK: unknown[] = [
  Number.NaN,
  -1,
  1.5,
  2 ** 53,
  Number.POSITIVE_INFINITY,
  4096n,
  '4096',
  '',
  null,
  undefined,
  [],
  [4096],
  {},
  true,
];

describe('hex', () => {
  it.each<[unknown, string]>([
    [0, '0x0'],
    [4096, '0x1000'],
    [2 ** 53 - 1, '0x1fffffffffffff'],
    [2 ** 53, '9007199254740992'],
    [-1, '-1'],
    [1.5, '1.5'],
    [Number.NaN, 'NaN'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    [123n, '123n'],
    ['0x10', '"0x10"'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1, 2], 'Array'],
    [new Uint8Array(2), 'Uint8Array'],
    [{ a: 1 }, 'Object'],
    [Object.create(null), 'Object'],
    [new Thing(), 'Thing'],
    [true, 'true'],
  ])('hex(%s) is %s', (v, want) => {
    expect(hex(v)).toBe(want);
  });

  it('renders functions and symbols without throwing', () => {
    expect(hex(function named() {})).toBe('function named');
    expect(hex(Symbol('s'))).toBe('Symbol(s)');
  });
});

describe('predicates', () => {
  it('isUint accepts exact non-negative numbers below 2^53 only', () => {
    expect([0, 1, 4096, 2 ** 53 - 1].every(isUint)).toBe(true);
    for (const v of JUNK) expect(isUint(v), hex(v)).toBe(false);
  });

  it('isPowerOfTwo knows every power of two up to 2^52 and nothing else', () => {
    for (let k = 0; k <= 52; k++) {
      expect(isPowerOfTwo(2 ** k), `2^${k}`).toBe(true);
      if (k > 1) expect(isPowerOfTwo(2 ** k + 1)).toBe(false);
      if (k > 1) expect(isPowerOfTwo(2 ** k - 1)).toBe(false);
    }
    for (const v of [0, 3, 6, 2 ** 40 + 2 ** 12, 4096n, '4096', 0.5, -4096, 2 ** 53]) expect(isPowerOfTwo(v), hex(v)).toBe(false);
  });

  it('hasOnlyBits refuses bits at or above 2^32 that a 32-bit AND would drop', () => {
    expect(hasOnlyBits(0xff, 0xff)).toBe(true);
    expect(hasOnlyBits(0, 0xff)).toBe(true);
    expect(hasOnlyBits(0xffff_ffff, 0xffff_ffff)).toBe(true);
    expect(hasOnlyBits(2 ** 40 + 1, 2 ** 40 + 1)).toBe(true);
    for (const v of [0x100, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 2 ** 40 + 0xff, 2 ** 52 + 1]) {
      expect(hasOnlyBits(v, 0xff), hex(v)).toBe(false);
    }
    for (const v of JUNK) expect(hasOnlyBits(v, 0xff), hex(v)).toBe(false);
  });

  it('log2Floor and log2Ceil are exact across the 2^32 boundary', () => {
    for (let k = 0; k <= 52; k++) {
      expect(log2Floor(2 ** k)).toBe(k);
      expect(log2Ceil(2 ** k)).toBe(k);
      if (k > 1) {
        expect(log2Floor(2 ** k + 1)).toBe(k);
        expect(log2Ceil(2 ** k + 1)).toBe(k + 1);
        expect(log2Floor(2 ** k - 1)).toBe(k - 1);
      }
    }
  });
});

describe('throwing checks', () => {
  it('refuse junk with EINVAL and a message naming the argument and the value', () => {
    for (const v of JUNK) {
      expect(code(() => checkUint('pa', v)), hex(v)).toBe('EINVAL');
      expect(code(() => checkSize('size', v)), hex(v)).toBe('EINVAL');
      expect(code(() => checkAligned('va', v, 4096)), hex(v)).toBe('EINVAL');
      expect(code(() => checkBits('attr', v, 0xff)), hex(v)).toBe('EINVAL');
      if (v !== -1) expect(code(() => checkInt('n', v, -8, 8)), hex(v)).toBe('EINVAL');
    }
    expect(() => checkUint('pa', 4096n)).toThrow('pa must be a non-negative integer below 2^53, got 4096n');
    expect(() => checkSize('size', 0)).toThrow(/size must be positive/);
    expect(() => checkAligned('va', 0x1001, 4096)).toThrow(/va must be aligned to 4096 bytes, got 0x1001/);
    expect(() => checkInt('slot', 9, 0, 7)).toThrow(/slot must be an integer in \[0x0, 0x7\], got 0x9/);
    expect(() => checkBits('attr', 2 ** 32 + 1, 0xff)).toThrow(/attr .* got 0x100000001/);
  });

  it('accept what they promise', () => {
    checkUint('pa', 0);
    checkSize('size', 1);
    checkAligned('va', 0x2000, 4096);
    checkInt('n', -8, -8, 8);
    checkBits('attr', 0xa5, 0xff);
    expect(code(() => checkInt('n', 9, -8, 8))).toBe('EINVAL');
    expect(code(() => checkBits('attr', 0x100, 0xff))).toBe('EINVAL');
  });
});

describe('faultErrno', () => {
  it('maps PROTECTION to EACCES, NO_MEMORY to ENOMEM and everything else to EFAULT', () => {
    expect(faultErrno(FaultCode.PROTECTION)).toBe('EACCES');
    expect(faultErrno(FaultCode.NO_MEMORY)).toBe('ENOMEM');
    for (const c of [FaultCode.NOT_MAPPED, FaultCode.NON_CANONICAL, FaultCode.BAD_ADDRESS, 0, -99, Number.NaN]) {
      expect(faultErrno(c)).toBe('EFAULT');
    }
  });
});
