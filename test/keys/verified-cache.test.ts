import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from '../../src/keys/verified-cache.js';

describe('VerifiedTokenCache', () => {
  it('finds a token only under the typ it was verified for', () => {
    const cache = new VerifiedTokenCache<string>();
    cache.set('warrant+jwt', 'a.b.c', 'claims');
    expect(cache.get('warrant+jwt', 'a.b.c')).toBe('claims');
    expect(cache.get('receipt+jwt', 'a.b.c')).toBeUndefined();
    expect(cache.get('warrant+jwt', 'a.b.d')).toBeUndefined();
  });

  it('holds at most its limit, evicting the least recently used token first', () => {
    const cache = new VerifiedTokenCache<number>(3);
    cache.set('t', 'one', 1);
    cache.set('t', 'two', 2);
    cache.set('t', 'three', 3);
    expect(cache.get('t', 'one')).toBe(1);
    cache.set('t', 'four', 4);
    expect(cache.size).toBe(3);
    expect(cache.get('t', 'two')).toBeUndefined();
    expect([cache.get('t', 'one'), cache.get('t', 'three'), cache.get('t', 'four')]).toEqual([
      1, 3, 4,
    ]);
  });
});
