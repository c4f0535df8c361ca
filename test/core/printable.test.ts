import { describe, expect, it } from 'vitest';
import { escapeUnprintable, hasUnprintable, printable } from '../../src/core/printable.js';

describe('escapeUnprintable', () => {
  describe('when text holds characters a terminal acts on or hides', () => {
    it.each([
      ['an ANSI escape', '\u001b[2J', '\\u001b[2J'],
      ['DEL', 'a\u007fb', 'a\\u007fb'],
      ['a C1 control (CSI)', '\u009b31m', '\\u009b31m'],
      ['a right-to-left override', 'abc\u202edef', 'abc\\u202edef'],
      ['a zero-width space', 'db/ord\u200bers', 'db/ord\\u200bers'],
      ['a line separator', 'a\u2028b', 'a\\u2028b'],
      ['a paragraph separator', 'a\u2029b', 'a\\u2029b'],
      ['a byte order mark', '\ufeffx', '\\ufeffx'],
      ['an astral tag character, as its surrogate pair', 'x\u{e0041}', 'x\\udb40\\udc41'],
    ])('escapes %s as \\uXXXX', (_, text, escaped) => {
      expect(hasUnprintable(text)).toBe(true);
      expect(escapeUnprintable(text)).toBe(escaped);
    });
  });

  describe('when text is plain, in any script', () => {
    it('leaves it as it is', () => {
      for (const text of ['db/orders', 'Zürich – 東京', 'ok 👍']) {
        expect(hasUnprintable(text)).toBe(false);
        expect(escapeUnprintable(text)).toBe(text);
      }
    });
  });
});

describe('printable', () => {
  it('cuts a long value after escaping it', () => {
    expect(printable(`${'a'.repeat(9)}\u202e`, 10)).toBe('aaaaaaaaa\\…');
  });
});
