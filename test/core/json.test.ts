import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/core/errors.js';
import { parseStrictJson, parseStrictJsonBytes } from '../../src/core/json.js';
import { expectCode } from '../helpers/expect-code.js';

const nest = (depth: number, open: string, close: string, inner = '0'): string =>
  open.repeat(depth) + inner + close.repeat(depth);

/** `{"a":{"a":…{"a":0}…}}` with `depth` objects. */
const nestObjects = (depth: number): string => '{"a":'.repeat(depth) + '0' + '}'.repeat(depth);

describe('parseStrictJson', () => {
  describe('when the text is valid JSON without duplicate keys', () => {
    it('returns the same value as JSON.parse for any generated JSON text', () => {
      fc.assert(
        fc.property(fc.json({ maxDepth: 8, stringUnit: 'binary' }), (text) => {
          expect(parseStrictJson(text)).toStrictEqual(JSON.parse(text));
        }),
        { numRuns: 150 },
      );
    });

    it('returns the same value as JSON.parse when the text is pretty-printed with any JSON whitespace', () => {
      fc.assert(
        fc.property(
          fc.jsonValue({ maxDepth: 6 }),
          fc.constantFrom(' ', '\t', '\r\n', '\n  \t'),
          (value, space) => {
            const text = `${space}${JSON.stringify(value, null, space)}${space}`;
            expect(parseStrictJson(text)).toStrictEqual(JSON.parse(text));
          },
        ),
        { numRuns: 200 },
      );
    });

    it('accepts the same key in sibling and nested objects', () => {
      expect(parseStrictJson('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
      expect(parseStrictJson('{"a":{"a":{"a":1}},"b":{"a":2}}')).toEqual({
        a: { a: { a: 1 } },
        b: { a: 2 },
      });
    });

    it('accepts escaped quotes and backslashes inside keys and values', () => {
      expect(parseStrictJson('{"a\\"b":"c\\\\","a\\\\":"\\"}"}')).toEqual({
        'a"b': 'c\\',
        'a\\': '"}',
      });
    });

    it('accepts a document nested exactly 64 deep', () => {
      expect(() => parseStrictJson(nest(64, '[', ']'))).not.toThrow();
      expect(() => parseStrictJson(nestObjects(64))).not.toThrow();
    });
  });

  describe('when an object repeats a key', () => {
    it.each([
      ['at the top level', '{"a":1,"a":2}'],
      ['with equal values', '{"a":1,"a":1}'],
      ['inside an array', '[1,{"b":1,"c":2,"b":3}]'],
      ['three objects deep', '{"x":{"y":{"k":true,"k":false}}}'],
      ['after a nested object that used the key', '{"k":{"k":1},"k":2}'],
      ['as a \\u escape of the same letter', '{"a":1,"\\u0061":2}'],
      ['as an escaped solidus', '{"/":1,"\\/":2}'],
      ['as an escaped surrogate pair', '{"\u{1F600}":1,"\\ud83d\\ude00":2}'],
      ['as two different escapes of the same key', '{"\\n":1,"\\u000a":2}'],
    ])('refuses it %s with DUPLICATE_JSON_KEY', (_, text) => {
      expectCode(() => parseStrictJson(text), 'DUPLICATE_JSON_KEY');
    });

    it('refuses a duplicate injected at any depth of a generated document', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 60 }), fc.string({ minLength: 1 }), (depth, key) => {
          const k = JSON.stringify(key);
          const text = '['.repeat(depth) + `{${k}:1,${k}:2}` + ']'.repeat(depth);
          expectCode(() => parseStrictJson(text), 'DUPLICATE_JSON_KEY');
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('when the text is malformed', () => {
    it.each([
      ['empty input', ''],
      ['only whitespace', '  \n'],
      ['a second value after the first', '{} {}'],
      ['two top-level scalars', '1 2'],
      ['a stray closing bracket', '[]]'],
      ['a stray closing brace', '{"a":1}}'],
      ['trailing garbage', '{"a":1}x'],
      ['an unterminated string', '"abc'],
      ['an unterminated string value', '{"a":"b'],
      ['an unterminated string ending in a backslash', '"abc\\'],
      ['an unterminated array', '[1,2'],
      ['an unterminated object', '{"a":1'],
      ['a trailing comma in an array', '[1,]'],
      ['a trailing comma in an object', '{"a":1,}'],
      ['a missing colon', '{"a" 1}'],
      ['a missing value', '{"a":}'],
      ['a leading comma', '[,1]'],
      ['a single-quoted string', "{'a':1}"],
      ['an unquoted key', '{a:1}'],
      ['a bare newline inside a string', '"a\nb"'],
      ['a bare tab inside a string', '"a\tb"'],
      ['a bare NUL inside a key', '{"a\u0000":1}'],
      ['an invalid escape', '"\\x41"'],
      ['NaN', 'NaN'],
      ['Infinity', 'Infinity'],
      ['-Infinity', '[-Infinity]'],
      ['NaN as a value', '{"a":NaN}'],
      ['a leading plus', '+1'],
      ['a leading zero', '01'],
      ['a bare decimal point', '1.'],
      ['a hexadecimal number', '0x10'],
      ['a misspelt literal', 'nul'],
      ['a literal glued to a string', '[true"x"]'],
      ['a byte-order mark', '\uFEFF{}'],
    ])('refuses %s with INVALID_JSON', (_, text) => {
      expectCode(() => parseStrictJson(text), 'INVALID_JSON');
    });

    it.each([['1e400'], ['-1e400'], ['[1,2,1E+999]'], ['{"a":123456789e999}']])(
      'refuses the non-finite number in %s with INVALID_JSON',
      (text) => {
        expectCode(() => parseStrictJson(text), 'INVALID_JSON');
      },
    );

    it('refuses anything JSON.parse refuses, always with a CountersignError', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: fc.constantFrom(...'{}[]:,"\\ 0123eE.-+tfnaulrsx') }),
          (text) => {
            let native: unknown;
            let nativeOk = true;
            try {
              native = JSON.parse(text);
            } catch {
              nativeOk = false;
            }
            let strict: unknown;
            let error: unknown;
            try {
              strict = parseStrictJson(text);
            } catch (e) {
              error = e;
            }
            if (error === undefined) {
              expect(nativeOk).toBe(true);
              expect(strict).toStrictEqual(native);
            } else {
              expect(error).toBeInstanceOf(CountersignError);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('when a string or key holds a lone surrogate', () => {
    it.each([
      ['an escaped high surrogate in a value', '{"a":"fuzz\\ud800"}'],
      ['an escaped low surrogate in a value', '["\\uDC00"]'],
      ['a reversed pair', '"\\udc00\\ud800"'],
      ['an escaped surrogate in a key', '{"k\\ud800":1}'],
      ['a raw lone surrogate in the text', '{"a":"x\ud800"}'],
    ])('refuses %s with LONE_SURROGATE', (_, text) => {
      const err = expectCode(() => parseStrictJson(text), 'LONE_SURROGATE');
      expect(err.message.isWellFormed()).toBe(true);
    });

    it('accepts an escaped surrogate pair', () => {
      expect(parseStrictJson('{"\\ud83d\\ude00":"\\uD83D\\uDE00"}')).toEqual({
        '\ud83d\ude00': '\ud83d\ude00',
      });
    });

    it('accepts exactly the strings that are well-formed UTF-16', () => {
      const codeUnit = fc.oneof(
        fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('a', '"', '\\', '\ud83d\ude00'),
      );
      fc.assert(
        fc.property(fc.string({ unit: codeUnit, maxLength: 6 }), (str) => {
          // JSON.stringify escapes a lone surrogate (ES2019), so the text itself is well-formed.
          const text = JSON.stringify({ [str]: str });
          let parsed: unknown = null;
          try {
            parsed = parseStrictJson(text);
          } catch (e) {
            expect((e as CountersignError).code).toBe('LONE_SURROGATE');
          }
          expect(parsed !== null).toBe(str.isWellFormed());
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when the text nests deeper than 64', () => {
    it('refuses 65 nested arrays or objects with JSON_TOO_DEEP', () => {
      expectCode(() => parseStrictJson(nest(65, '[', ']')), 'JSON_TOO_DEEP');
      expectCode(() => parseStrictJson(nestObjects(65)), 'JSON_TOO_DEEP');
    });

    it('refuses 100,000 nested arrays and objects without overflowing the stack', () => {
      expectCode(() => parseStrictJson(nest(100_000, '[', ']')), 'JSON_TOO_DEEP');
      expectCode(() => parseStrictJson(nestObjects(100_000)), 'JSON_TOO_DEEP');
      expectCode(() => parseStrictJson('['.repeat(100_000)), 'JSON_TOO_DEEP');
    });
  });

  describe('when it refuses input', () => {
    const secret = 'tok_5ecret-Value-That-Must-Not-Leak-0123456789abcdefghijklmnopqrstuvwxyz';

    it.each([
      ['a duplicate key', `{"a":"${secret}","a":1}`],
      ['trailing data', `{"a":1} "${secret}"`],
      ['an unterminated string', `{"a":"${secret}`],
      ['a control character', `{"a":"${secret}\u0001"}`],
      ['a bad escape', `{"a":"${secret}\\q"}`],
      ['a bad token', `{"a":${secret}}`],
      ['a non-finite number', `{"${secret}":1e400}`],
      ['deep nesting', `${'['.repeat(70)}"${secret}"${']'.repeat(70)}`],
    ])('names no secret in the message for %s', (_, text) => {
      let message = '';
      try {
        parseStrictJson(text);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(secret);
      expect(message).not.toContain(text);
    });

    it('never puts the whole input into the message', () => {
      fc.assert(
        fc.property(
          fc.jsonValue({ maxDepth: 4 }),
          fc.string({ minLength: 1, maxLength: 3 }),
          fc.nat(),
          (value, junk, at) => {
            const valid = JSON.stringify({ padding: 'x'.repeat(80), value });
            const i = at % valid.length;
            const text = valid.slice(0, i) + junk + valid.slice(i);
            try {
              parseStrictJson(text);
            } catch (e) {
              expect((e as Error).message).not.toContain(text);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});

describe('parseStrictJsonBytes', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8');

  describe('when a string or key escapes U+0000', () => {
    it.each([
      ['a string', '{"reason":"x\\u0000y"}'],
      ['a key', '{"a\\u0000":1}'],
      ['a string in an array', '["ok","\\u0000"]'],
    ])('refuses %s with NUL_CHARACTER', (_, text) => {
      expectCode(() => parseStrictJsonBytes(bytes(text)), 'NUL_CHARACTER');
    });

    it('reads an escaped backslash before u0000 as the text it is', () => {
      expect(parseStrictJsonBytes(bytes('{"a":"\\\\u0000"}'))).toEqual({ a: '\\u0000' });
    });

    it('leaves it to documents the server wrote itself, read with parseStrictJson', () => {
      expect(parseStrictJson('{"a":"\\u0000"}')).toEqual({ a: '\u0000' });
    });
  });

  describe('when the bytes are not UTF-8', () => {
    it('refuses them with INVALID_UTF8 instead of replacing them', () => {
      expectCode(() => parseStrictJsonBytes(Buffer.from([0x22, 0xff, 0x22])), 'INVALID_UTF8');
    });
  });
});
