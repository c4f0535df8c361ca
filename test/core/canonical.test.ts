import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertStrictlyCanonical, canonicalJson, digestOf } from '../../src/core/canonical.js';
import { expectCode } from '../helpers/expect-code.js';
import { prng } from '../fixtures/prng.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Rebuilds every object with its keys inserted in a random order. */
function shuffleKeys(v: Json, rnd: () => number): Json {
  if (Array.isArray(v)) return v.map((x) => shuffleKeys(x, rnd));
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  // Object.fromEntries defines own properties, so a generated "__proto__" key survives.
  return Object.fromEntries(keys.map((k) => [k, shuffleKeys(v[k]!, rnd)]));
}

/** Counts the places a mutation can land: every scalar leaf and every object key. */
function countSites(v: Json): number {
  if (Array.isArray(v)) return v.reduce<number>((n, x) => n + countSites(x), 0);
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).reduce((n, [, x]) => n + 1 + countSites(x), 0);
  }
  return 1;
}

function changeScalar(v: Json): Json {
  if (v === null) return 0;
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'number') return v === 0 ? 1 : -v;
  if (typeof v === 'string') return `${v}!`;
  return v;
}

/** Returns a copy of `v` with exactly one leaf value or one key changed. */
function mutateAt(v: Json, site: { n: number }): Json {
  if (Array.isArray(v)) return v.map((x) => mutateAt(x, site));
  if (v !== null && typeof v === 'object') {
    const taken = new Set(Object.keys(v));
    const entries = Object.entries(v).map(([k, x]): [string, Json] => {
      let key = k;
      if (site.n-- === 0)
        do key = `${key}~`;
        while (taken.has(key));
      return [key, mutateAt(x, site)];
    });
    return Object.fromEntries(entries);
  }
  return site.n-- === 0 ? changeScalar(v) : v;
}

const json = fc.jsonValue({ maxDepth: 5 }) as fc.Arbitrary<Json>;
/** One UTF-16 code unit, often half of a surrogate pair; sometimes a whole pair or ASCII. */
const codeUnit = fc.oneof(
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('a', '\ud83d\ude00', '\u00e9'),
);

describe('digestOf', () => {
  describe('when only the order of object keys differs', () => {
    it('returns the same digest', () => {
      fc.assert(
        fc.property(json, fc.integer(), (value, seed) => {
          const shuffled = shuffleKeys(value, prng(seed));
          expect(canonicalJson(shuffled)).toBe(canonicalJson(value));
          expect(digestOf(shuffled)).toBe(digestOf(value));
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('when one leaf value or one key changes', () => {
    it('returns a different digest', () => {
      fc.assert(
        fc.property(
          json.filter((v) => countSites(v) > 0),
          fc.nat(),
          (value, pick) => {
            const mutated = mutateAt(value, { n: pick % countSites(value) });
            expect(digestOf(mutated)).not.toBe(digestOf(value));
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('when the value is canonicalisable', () => {
    it('is sha256: followed by the hex SHA-256 of the canonical JSON', () => {
      const canonical = canonicalJson({ b: [1, 'x'], a: null });
      expect(canonical).toBe('{"a":null,"b":[1,"x"]}');
      const hex = createHash('sha256').update(canonical, 'utf8').digest('hex');
      expect(digestOf({ b: [1, 'x'], a: null })).toBe(`sha256:${hex}`);
    });
  });
});

describe('canonicalJson', () => {
  describe('when given the RFC 8785 §3.2.2 sample', () => {
    it('serialises numbers, strings and literals as the RFC shows', () => {
      const input = JSON.parse(
        '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
          '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
          '"literals":[null,true,false]}',
      ) as unknown;
      expect(canonicalJson(input)).toBe(
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
          '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
      );
    });
  });

  describe('when keys sort differently by UTF-16 code unit and by code point (RFC 8785 §3.2.3)', () => {
    it('sorts by UTF-16 code units', () => {
      const input = {
        '\u20ac': 'Euro Sign',
        '\r': 'Carriage Return',
        '\ufb33': 'Hebrew Letter Dalet With Dagesh',
        '1': 'One',
        '\ud83d\ude00': 'Emoji: Grinning Face',
        '\u0080': 'Control',
        '\u00f6': 'Latin Small Letter O With Diaeresis',
      };
      // Compare the text: Object.keys would list the integer-like key "1" first.
      expect(canonicalJson(input)).toBe(
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",' +
          '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",' +
          '"\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
      );
    });
  });

  describe('when strings hold any UTF-16 code units', () => {
    it('accepts exactly the well-formed ones, surrogate pairs included', () => {
      expect(canonicalJson({ ['\ud83d\ude00']: '\ud83d\ude00' })).toBe(
        '{"\ud83d\ude00":"\ud83d\ude00"}',
      );
      fc.assert(
        fc.property(fc.string({ unit: codeUnit, maxLength: 8 }), (s) => {
          let accepted = true;
          try {
            canonicalJson({ [s]: s });
          } catch {
            accepted = false;
          }
          expect(accepted).toBe(s.isWellFormed());
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('when numbers have several spellings', () => {
    it.each([
      [1e30, '1e+30'],
      [1e21, '1e+21'],
      [1e20, '100000000000000000000'],
      [1e-7, '1e-7'],
      [0.000001, '0.000001'],
      [-0, '0'],
      [4.5, '4.5'],
    ])('writes %s as %s', (n, text) => {
      expect(canonicalJson(n)).toBe(text);
    });
  });

  describe('when the value cannot be represented faithfully', () => {
    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['a function', () => 1],
      ['a bigint', 1n],
      ['a symbol', Symbol('s')],
      ['undefined in an object', { a: 1, b: undefined }],
      ['undefined in an array', [1, undefined]],
      ['NaN deep inside', { a: [1, { b: [NaN] }] }],
      ['a bigint deep inside', { a: { b: { c: 10n } } }],
      ['a function as a property', { f: () => 1 }],
    ])('refuses %s with NON_CANONICAL_VALUE', (_, value) => {
      expectCode(() => canonicalJson(value), 'NON_CANONICAL_VALUE');
      expectCode(() => digestOf(value), 'NON_CANONICAL_VALUE');
    });

    it.each<[string, unknown]>([
      ['a lone high surrogate', 'fuzz\ud800'],
      ['a lone low surrogate', '\udc00fuzz'],
      ['a reversed pair', '\udc00\ud800'],
      ['a lone surrogate deep inside', { a: [{ b: ['ok', 'x\udfff'] }] }],
      ['a lone surrogate in a key', { ['k\ud800']: 1 }],
    ])('refuses %s with NON_CANONICAL_VALUE', (_, value) => {
      expectCode(() => canonicalJson(value), 'NON_CANONICAL_VALUE');
      expectCode(() => digestOf(value), 'NON_CANONICAL_VALUE');
    });

    it('does not echo an ill-formed key in its message', () => {
      const err = expectCode(() => canonicalJson({ a: { ['k\ud800']: 1 } }), 'NON_CANONICAL_VALUE');
      expect(err.message).toContain('$.a.<ill-formed key>');
      expect(err.message.isWellFormed()).toBe(true);
    });

    it('names the path of the offending value', () => {
      const err = expectCode(() => canonicalJson({ a: [1, { b: NaN }] }), 'NON_CANONICAL_VALUE');
      expect(err.message).toContain('$.a[1].b');
    });

    it('refuses a value nested deeper than 64 and a cyclic value without overflowing', () => {
      let deep: unknown = 0;
      for (let i = 0; i < 100; i++) deep = [deep];
      expectCode(() => canonicalJson(deep), 'NON_CANONICAL_VALUE');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expectCode(() => canonicalJson(cyclic), 'NON_CANONICAL_VALUE');
    });
  });
});

describe('assertStrictlyCanonical', () => {
  it('refuses -0 anywhere, which canonical JSON would write as 0', () => {
    expectCode(() => assertStrictlyCanonical({ a: [1, { b: -0 }] }), 'NON_CANONICAL_VALUE');
    expect(() => assertStrictlyCanonical({ a: [1, { b: 0 }] })).not.toThrow();
  });

  it('refuses what canonical JSON refuses', () => {
    expectCode(() => assertStrictlyCanonical({ a: 'x\ud800' }), 'NON_CANONICAL_VALUE');
    expectCode(() => assertStrictlyCanonical({ a: Infinity }), 'NON_CANONICAL_VALUE');
  });
});
