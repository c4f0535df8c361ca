import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, matchGlob, type StarRule } from '../../src/core/glob.js';

/** The backtracking regular expression the matcher replaced: right, but slow on some globs. */
function reference(pattern: string, stars: StarRule, value: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c !== '*') source += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
    else if (stars === 'flat') source += '[\\s\\S]*';
    else if (pattern[i + 1] === '*') {
      source += '[\\s\\S]*';
      i++;
    } else source += '[^/]*';
  }
  return new RegExp(`^${source}$`).test(value);
}

const text = (units: string[], maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...units), maxLength });

describe('matchGlob', () => {
  describe('when compared with a regular expression of the same glob', () => {
    it.each<StarRule>(['segments', 'flat'])(
      'agrees on every value, with %s stars (property)',
      (stars) => {
        fc.assert(
          fc.property(
            text(['a', 'b', '/', '*', '.', '\n'], 8),
            text(['a', 'b', '/', '.', '\n'], 10),
            (p, v) => {
              expect(matchGlob(compileGlob(p, stars), v)).toBe(reference(p, stars, v));
            },
          ),
          { numRuns: 5_000 },
        );
      },
    );
  });

  describe('when the glob has many stars and the value almost matches', () => {
    // Each of these took a backtracking regular expression from seconds to minutes.
    it.each([
      ['refs/heads/*-*-*-*-*', `refs/heads/${'-'.repeat(230)}/`, false],
      ['*a*a*a*b', 'a'.repeat(2000), false],
      ['*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(2000), false],
      ['**a**a**a**b', `${'a'.repeat(1999)}b`, true],
    ])('answers %s at once', (pattern, value, expected) => {
      expect(matchGlob(compileGlob(pattern, 'segments'), value)).toBe(expected);
    });
  });

  it('treats a pattern with no star as the value itself', () => {
    expect(matchGlob(compileGlob('', 'segments'), '')).toBe(true);
    expect(matchGlob(compileGlob('', 'segments'), 'a')).toBe(false);
    expect(matchGlob(compileGlob('a.b', 'flat'), 'a.b')).toBe(true);
    expect(matchGlob(compileGlob('a.b', 'flat'), 'axb')).toBe(false);
  });
});
