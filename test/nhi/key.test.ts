import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nhiKey } from '../../src/nhi/key.js';

/** Ids of today's grammar: `prefix:name`. */
const nhiId = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/),
    fc.stringMatching(/^[A-Za-z0-9._@/-]{1,200}$/),
  )
  .map(([prefix, name]) => `${prefix}:${name}`);

/** The id with the case of each letter chosen by `flips`. */
const recase = (id: string, flips: readonly boolean[]): string =>
  [...id].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join('');

/** Look-alike spellings an attacker can type within the grammar, each of one original. */
const LOOK_ALIKES: ReadonlyArray<readonly [string, string]> = [
  ['l', '1'],
  ['l', 'I'],
  ['o', '0'],
  ['O', '0'],
  ['m', 'rn'],
  ['w', 'vv'],
  ['d', 'cl'],
];

describe('nhiKey', () => {
  describe('when applied to its own result', () => {
    it('returns it unchanged, for every id of the grammar', () => {
      fc.assert(fc.property(nhiId, (id) => nhiKey(nhiKey(id)) === nhiKey(id)));
    });

    it('returns it unchanged for any Unicode text, should the grammar widen', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
          expect(nhiKey(nhiKey(text))).toBe(nhiKey(text));
        }),
      );
    });
  });

  describe('when two ids differ only by case', () => {
    it('gives both one key', () => {
      fc.assert(
        fc.property(nhiId, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), (id, flips) => {
          expect(nhiKey(recase(id, flips))).toBe(nhiKey(id));
        }),
      );
    });

    it.each([
      ['svc:bobowned', 'svc:BobOwned'],
      ['svc:bobowned', 'svc:BOBOWNED'],
      ['svc:big', 'svc:BIG'],
      ['agent:ops-bot', 'agent:Ops-Bot'],
    ])('gives %s and %s one key', (a, b) => {
      expect(nhiKey(b)).toBe(nhiKey(a));
    });
  });

  describe('when two ids differ by a confusable character', () => {
    it('gives both one key, wherever the look-alike is put', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^[a-z0-9._-]{0,20}$/),
          fc.constantFrom(...LOOK_ALIKES),
          fc.stringMatching(/^[a-z0-9._-]{0,20}$/),
          (before, [original, lookAlike], after) => {
            const id = `svc:${before}${original}${after}`;
            expect(nhiKey(`svc:${before}${lookAlike}${after}`)).toBe(nhiKey(id));
          },
        ),
      );
    });

    it.each([
      ['svc:bobowned', 'svc:b0bowned'],
      ['svc:bobowned', 'svc:bobovvned'],
      ['svc:bobowned', 'svc:bobownecl'],
      ['svc:payments-api', 'svc:payrnents-apI'],
      ['svc:payments-api', 'svc:payments-ap1'],
      ['svc:olga', 'svc:0lga'],
    ])('gives %s and %s one key', (a, b) => {
      expect(nhiKey(b)).toBe(nhiKey(a));
    });
  });

  describe('when two ids differ by more than case or look-alikes', () => {
    it.each([
      ['svc:payments-api', 'svc:payments-apj'],
      ['svc:bobowned', 'svc:bobowner'],
      ['svc:a', 'svc:b'],
      ['svc:a', 'agent:a'],
      ['svc:a.b', 'svc:a-b'],
      ['svc:2', 'svc:z'],
    ])('gives %s and %s different keys', (a, b) => {
      expect(nhiKey(b)).not.toBe(nhiKey(a));
    });
  });

  describe('when the text lies outside the ASCII grammar of today', () => {
    it('folds the capital and small sharp s as "ss", and is stable on the result', () => {
      expect(nhiKey('svc:stra\u1e9ee')).toBe(nhiKey('svc:strasse'));
      expect(nhiKey('svc:stra\u00dfe')).toBe(nhiKey('svc:STRASSE'));
      expect(nhiKey(nhiKey('\u1e9e'))).toBe(nhiKey('\u1e9e'));
    });

    it('keys a decomposed character as its composed form', () => {
      expect(nhiKey('svc:caf\u0065\u0301')).toBe(nhiKey('svc:caf\u00e9'));
      expect(nhiKey('svc:CAF\u00c9')).toBe(nhiKey('svc:caf\u00e9'));
    });
  });

  describe('when set beside the key migration 007 gives a collided row', () => {
    it('never contains "#", so `<key>#<id>` is never the key of a lookup', () => {
      fc.assert(fc.property(nhiId, (id) => !nhiKey(id).includes('#')));
    });
  });
});
