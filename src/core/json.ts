import { CountersignError, type CoreErrorCode } from './errors.js';

const MAX_DEPTH = 64;

/**
 * Parses JSON that will be hashed or signed. `JSON.parse` silently keeps the last of
 * duplicate keys, so two parties could read one document differently; this parser
 * refuses duplicates, non-finite numbers, nesting deeper than {@link MAX_DEPTH}, and
 * strings or keys holding a lone surrogate (`"\ud800"`: half of a UTF-16 pair, which
 * I-JSON forbids and RFC 8785 cannot canonicalise) with `LONE_SURROGATE`.
 *
 * A single iterative scan validates; `JSON.parse` then builds the value.
 */
export function parseStrictJson(text: string, opts: StrictJsonOptions = {}): unknown {
  scan(text, opts.refuseNul === true);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw fail('INVALID_JSON', 'body is not valid JSON', cause);
  }
}

// Fatal: a byte sequence that is not UTF-8 is refused, never replaced with U+FFFD (two
// parties would otherwise read different strings from one body). ignoreBOM keeps a
// byte-order mark in the text, where the strict parser refuses it (RFC 8259 §8.1).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface StrictJsonOptions {
  /**
   * Refuse U+0000 in a string or key (`NUL_CHARACTER`): input bound for the store, where
   * PostgreSQL's text cannot hold it and would fail the write (a 500, and a refused
   * redemption left unrecorded). Documents the server wrote are read without it.
   */
  readonly refuseNul?: boolean;
}

/**
 * {@link parseStrictJson} over bytes from outside, which must be well-formed UTF-8
 * (`INVALID_UTF8`) and hold no U+0000 (`NUL_CHARACTER`).
 */
export function parseStrictJsonBytes(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw fail('INVALID_UTF8', 'the body is not well-formed UTF-8');
  }
  return parseStrictJson(text, { refuseNul: true });
}

function fail(
  code: CoreErrorCode,
  message: string,
  cause?: unknown,
): CountersignError<CoreErrorCode> {
  return new CountersignError(code, message, cause === undefined ? undefined : { cause });
}

type Frame = { kind: 'object'; keys: Set<string> } | { kind: 'array' };

function scan(s: string, refuseNul: boolean): void {
  const stack: Frame[] = [];
  let i = 0;
  const n = s.length;
  const ws = (): void => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const readString = (): string => {
    // caller guarantees s[i] === '"'
    const start = i;
    i++;
    let simple = true;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        const raw = s.slice(start, i);
        let value: string;
        if (simple) value = raw.slice(1, -1);
        else {
          try {
            value = JSON.parse(raw) as string;
          } catch (cause) {
            throw fail('INVALID_JSON', `invalid string at offset ${start}`, cause);
          }
        }
        // RFC 7493 §2.1: no surrogate code points, escaped or not. The text is not echoed.
        if (!value.isWellFormed()) {
          throw fail('LONE_SURROGATE', `string at offset ${start} holds a lone surrogate`);
        }
        // Only an escape can write U+0000 (a raw control character is refused above).
        if (refuseNul && !simple && value.includes('\0')) {
          throw fail('NUL_CHARACTER', `string at offset ${start} holds U+0000`);
        }
        return value;
      }
      if (c === 0x5c) {
        simple = false;
        i += 2;
        continue;
      }
      if (c < 0x20) throw fail('INVALID_JSON', `control character in string at offset ${i}`);
      i++;
    }
    throw fail('INVALID_JSON', 'unterminated string');
  };
  const readScalar = (): void => {
    const start = i;
    while (i < n && !',]}: \t\r\n'.includes(s[i] as string)) i++;
    const tok = s.slice(start, i);
    if (tok === 'true' || tok === 'false' || tok === 'null') return;
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(tok)) {
      throw fail('INVALID_JSON', `unexpected token at offset ${start}`);
    }
    if (!Number.isFinite(Number(tok))) {
      throw fail('INVALID_JSON', `number out of range at offset ${start}`);
    }
  };
  // expect: 'value' | 'key' | 'colon' | 'commaOrEnd'
  let expect: 'value' | 'key' | 'keyOrEnd' | 'valueOrEnd' | 'colon' | 'commaOrEnd' = 'value';
  let done = false;
  for (;;) {
    ws();
    if (i >= n) break;
    if (done) throw fail('INVALID_JSON', `trailing data at offset ${i}`);
    const ch = s[i] as string;
    const top = stack[stack.length - 1];
    switch (expect) {
      case 'key':
      case 'keyOrEnd': {
        if (ch === '}' && expect === 'keyOrEnd') {
          i++;
          stack.pop();
          expect = 'commaOrEnd';
          break;
        }
        if (ch !== '"') throw fail('INVALID_JSON', `expected a key at offset ${i}`);
        const key = readString();
        if (top?.kind !== 'object') throw fail('INVALID_JSON', 'key outside object');
        if (top.keys.has(key)) {
          throw fail('DUPLICATE_JSON_KEY', `duplicate key ${JSON.stringify(key.slice(0, 64))}`);
        }
        top.keys.add(key);
        expect = 'colon';
        break;
      }
      case 'colon':
        if (ch !== ':') throw fail('INVALID_JSON', `expected ':' at offset ${i}`);
        i++;
        expect = 'value';
        break;
      case 'value':
      case 'valueOrEnd':
        if (ch === ']' && expect === 'valueOrEnd') {
          i++;
          stack.pop();
          expect = 'commaOrEnd';
          break;
        }
        if (ch === '{' || ch === '[') {
          if (stack.length >= MAX_DEPTH)
            throw fail('JSON_TOO_DEEP', `nesting deeper than ${MAX_DEPTH}`);
          i++;
          stack.push(ch === '{' ? { kind: 'object', keys: new Set() } : { kind: 'array' });
          expect = ch === '{' ? 'keyOrEnd' : 'valueOrEnd';
          break;
        }
        if (ch === '"') readString();
        else readScalar();
        expect = 'commaOrEnd';
        break;
      case 'commaOrEnd':
        if (top === undefined) {
          done = true;
          break;
        }
        if (ch === ',') {
          i++;
          expect = top.kind === 'object' ? 'key' : 'value';
        } else if ((ch === '}' && top.kind === 'object') || (ch === ']' && top.kind === 'array')) {
          i++;
          stack.pop();
        } else {
          throw fail('INVALID_JSON', `unexpected character at offset ${i}`);
        }
        break;
    }
    if (stack.length === 0 && expect === 'commaOrEnd') done = true;
  }
  if (!done) throw fail('INVALID_JSON', 'unexpected end of JSON');
}
