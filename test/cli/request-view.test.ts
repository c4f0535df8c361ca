import { describe, expect, it } from 'vitest';
import { shown } from '../../src/cli/request-view.js';

describe('shown', () => {
  describe('when requester text holds a character the terminal would act on or hide', () => {
    it.each([
      ['a right-to-left override', 'rotate \u202eterces', '"rotate \\u202eterces"'],
      ['a zero-width space', 'db/ord\u200bers', '"db/ord\\u200bers"'],
      ['a C1 control', 'x\u009b2J', '"x\\u009b2J"'],
      ['a line separator', 'a\u2028b', '"a\\u2028b"'],
      ['a newline and an ANSI escape', 'ok\n\u001b[2J', '"ok\\n\\u001b[2J"'],
    ])('quotes it with %s escaped, leaving nothing raw', (_, text, quoted) => {
      const out = shown(text);
      expect(out).toBe(quoted);
      expect(out).toMatch(/^[\x20-\x7e]*$/);
      expect(JSON.parse(out)).toBe(text);
    });
  });

  describe('when requester text is plain', () => {
    it('shows it as it is', () => {
      expect(shown('release 4.2 (CHG-1193)')).toBe('release 4.2 (CHG-1193)');
    });
  });
});
