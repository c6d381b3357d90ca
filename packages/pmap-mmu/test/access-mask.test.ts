import { describe, expect, it } from 'vitest';
import { accessMask, isAccessCode } from '../src/internal/access-mask.js';

describe('accessMask', () => {
  it('allows exactly the codes whose kinds the page grants in their mode', () => {
    for (let sup = 0; sup < 8; sup++) {
      for (let usr = 0; usr < 8; usr++) {
        let want = 0;
        for (let kinds = 1; kinds < 8; kinds++) {
          if ((kinds & ~sup) === 0) want |= 1 << kinds;
          if ((kinds & ~usr) === 0) want |= 1 << (kinds | 8);
        }
        expect(accessMask(sup, usr), `sup ${sup} usr ${usr}`).toBe(want);
      }
    }
  });

  it('knows a well-formed access code', () => {
    expect([1, 2, 4, 7, 9, 15].every(isAccessCode)).toBe(true);
    expect([0, 8, 16, -1, 1.5, Number.NaN].some(isAccessCode)).toBe(false);
  });
});
