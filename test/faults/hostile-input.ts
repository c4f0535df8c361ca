import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { setAt } from '../helpers/openapi.js';

/** A request body as it goes on the wire, and which family of hostility made it. */
export interface Body {
  readonly kind: string;
  readonly bytes: Buffer;
}

/** Every (string-keyed) path of leaves and objects inside a JSON value. */
function pathsOf(v: unknown, prefix: string[] = []): string[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  return [prefix, ...entries.flatMap(([k, x]) => pathsOf(x, [...prefix, k]))];
}

function valueAt(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const seg of path) cur = (cur as Record<string, unknown>)[seg];
  return cur;
}

const CONFUSABLES: ReadonlyArray<(s: string) => string> = [
  (s) => s.replace(/a/g, '\u0430').replace(/e/g, '\u0435').replace(/o/g, '\u043e'), // Cyrillic
  (s) => s.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)), // fullwidth
  (s) => `${s}\u200b`, // zero-width space
  (s) => `\u202e${s}`, // right-to-left override
  (s) => `${s}\u0000`,
  (s) => s.normalize('NFD') + '\u0301',
  (s) => s.toUpperCase(),
  (s) => ` ${s} `,
  (s) => s.replace(/-/g, '\u2010'), // hyphen look-alike
  (s) => `${s}\ud83d\ude00`, // a surrogate pair: well-formed
];

/** Ways to put half a UTF-16 surrogate pair into a string (JSON.stringify escapes it). */
const LONE_SURROGATES: ReadonlyArray<(s: string) => string> = [
  (s) => `${s}\ud800`,
  (s) => `\udc00${s}`,
  (s) => `${s.slice(0, 1)}\udbff${s.slice(1)}`,
  (s) => `${s}\udfff\ud800`, // a pair in the wrong order
  (s) => `${s}\ud83d`, // an emoji cut in half
  () => '\ud800',
];

/** Byte sequences that are not UTF-8, among them a surrogate's would-be encoding. */
const BAD_UTF8: readonly Buffer[] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf], // overlong '/'
  [0xe0, 0x80, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // U+D800 as CESU-8
  [0xed, 0xbf, 0xbf], // U+DFFF as CESU-8
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xe2, 0x82], // truncated '€'
  [0xe9], // Latin-1 'é'
  [0xf0, 0x9f, 0x98], // truncated emoji
].map((b) => Buffer.from(b));

const HUGE_NUMBERS = [
  '1e309',
  '-1e309',
  '123456789012345678901234567890',
  '9007199254740993',
  '-0',
  '1e-400',
  '0.1e1',
  '-9223372036854775809',
  '1.5',
  '0x10',
  'NaN',
  'Infinity',
  '00',
];

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * Bodies that reach the body decoder, the strict JSON parser, the schema and the rules,
 * built from a shape-right template of the route.
 */
export function bodyArb(template: unknown): fc.Arbitrary<Body> {
  const json = JSON.stringify(template);
  const at = fc.constantFrom(...pathsOf(template));
  const k = (kind: string) => (text: string) => ({ kind, bytes: utf8(text) });
  const stringAt = (p: readonly string[]): string => {
    const cur = valueAt(template, p);
    return typeof cur === 'string' ? cur : 'admin';
  };
  return fc.oneof(
    fc.constant({ kind: 'valid', bytes: utf8(json) }),
    fc
      .oneof(
        fc.string({ maxLength: 60 }),
        fc.integer({ min: 1, max: Math.max(1, json.length - 1) }).map((n) => json.slice(0, n)),
        fc.constantFrom(
          '',
          '{',
          '{"a":1,}',
          "{'a':1}",
          '{"a":}',
          '\ufeff{}',
          '{} {}',
          '{/*c*/}',
          'null',
          '[]',
          '"x"',
          '{"a":"\\u12"}',
          '{"a":"\\x41"}',
          '{"__proto__":{"admin":true}}',
          '{"constructor":{"prototype":{"x":1}}}',
        ),
      )
      .map(k('malformed')),
    fc
      .constantFrom(65 * 1024, 70_000, 1024 * 1024)
      .map((n) => JSON.stringify({ ...(template as object), pad: 'x'.repeat(n) }))
      .map(k('oversized')),
    fc
      .tuple(
        at,
        fc.integer({ min: 1, max: 60 }).map((n) => 'A'.repeat(n * 1000)),
      )
      .map(([p, big]) => JSON.stringify(setAt(template, p, big)))
      .map(k('long-string')),
    fc
      .tuple(at, fc.constantFrom(32, 64, 200, 1000, 20_000), fc.boolean())
      .map(([p, depth, arr]) => {
        const marker = '"__DEEP__"';
        const open = arr ? '['.repeat(depth) : '{"a":'.repeat(depth);
        const close = arr ? ']'.repeat(depth) : '}'.repeat(depth);
        return JSON.stringify(setAt(template, p, '__DEEP__')).replace(marker, `${open}1${close}`);
      })
      .map(k('deep')),
    fc
      .tuple(at, fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, true, 0, [], {})))
      .map(([p, v]) => JSON.stringify(setAt(template, p, v)))
      .map(k('wrong-type')),
    fc
      .tuple(
        fc.constantFrom(...Object.keys((template as object) ?? {}), 'x'),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .map(([key, v]) => json.replace(/^\{/, `{${JSON.stringify(key)}:${JSON.stringify(v)},`))
      .map(k('duplicate-key')),
    fc
      .tuple(at, fc.constantFrom(...CONFUSABLES))
      .map(([p, f]) => JSON.stringify(setAt(template, p, f(stringAt(p)))))
      .map(k('confusable')),
    // In any value, or in a key; escaped as JSON.stringify does, or with upper-case hex.
    fc
      .tuple(at, fc.constantFrom(...LONE_SURROGATES), fc.boolean(), fc.boolean())
      .map(([p, f, inKey, upper]) => {
        let value: unknown;
        if (inKey) {
          // A key beside the value's siblings (or wrapping a value that has none).
          const parentPath = p.slice(0, -1);
          const parent = valueAt(template, parentPath);
          const keyed =
            typeof parent === 'object' && parent !== null && !Array.isArray(parent)
              ? { ...parent, [f('k')]: 1 }
              : { [f('k')]: parent };
          value = setAt(template, parentPath, keyed);
        } else value = setAt(template, p, f(stringAt(p)));
        const text = JSON.stringify(value);
        return upper
          ? text.replace(/\\ud([89a-f])/g, (_m, d: string) => `\\uD${d.toUpperCase()}`)
          : text;
      })
      .map(k('lone-surrogate')),
    fc
      .tuple(at, fc.constantFrom(...BAD_UTF8), fc.nat())
      .map(([p, bad, n]) => {
        // Inside a string (the rest stays valid JSON), or at any byte offset.
        const [before, after] = JSON.stringify(setAt(template, p, 'x__BAD__x')).split('__BAD__');
        if (after !== undefined && n % 2 === 0)
          return Buffer.concat([utf8(before!), bad, utf8(after)]);
        const whole = utf8(json);
        const i = n % (whole.length + 1);
        return Buffer.concat([whole.subarray(0, i), bad, whole.subarray(i)]);
      })
      .map((bytes) => ({ kind: 'invalid-utf8', bytes })),
    fc
      .tuple(at, fc.constantFrom(...HUGE_NUMBERS))
      .map(([p, n]) => JSON.stringify(setAt(template, p, '__NUM__')).replace('"__NUM__"', n))
      .map(k('huge-number')),
    fc
      .tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 }))
      .map(([key, v]) => JSON.stringify({ ...(template as object), [key]: v }))
      .map(k('extra-field')),
    fc
      .jsonValue({ maxDepth: 4 })
      .map((v) => JSON.stringify(v))
      .map(k('junk')),
  );
}

/** A surrogate's bytes or escapes, percent-encoded as a URL can carry them. */
const URL_SURROGATES = ['%ED%A0%80', '%ED%BF%BF', 'x%ED%B0%80', '%uD800', '%5Cud800', '%F0%9F%98'];

export const PATH_JUNK = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom(
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    '%ZZ',
    '%',
    '%C0%AF',
    '%E2%80%AE',
    'sha256:' + 'a'.repeat(64),
    'sha256:' + 'A'.repeat(64),
    'wrt_' + '0'.repeat(26),
    'x'.repeat(9000),
    '__proto__',
    'constructor',
    '1e309',
    '-1',
    '%20',
    ...URL_SURROGATES,
  ),
);

export const QUERY_JUNK = fc.oneof(
  fc.constant(''),
  fc
    .array(
      fc.tuple(
        fc.constantFrom(
          'state',
          'limit',
          'start',
          'end',
          'index',
          'size',
          'from',
          'to',
          'since',
          '__proto__',
          'x',
          '%ED%A0%80',
        ),
        fc.oneof(
          fc.string({ maxLength: 20 }).map(encodeURIComponent),
          fc.constantFrom(
            ...HUGE_NUMBERS,
            ...URL_SURROGATES,
            'pending',
            '0',
            '1',
            '2',
            '%ZZ',
            '',
            '2024-01-01T00:00:00Z',
          ),
        ),
      ),
      { maxLength: 4 },
    )
    .map((kv) => `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`),
);

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=latin1',
  '',
];

/** Content-Encoding values; only an empty one or `identity` may be accepted. */
export const CODINGS = fc.oneof(
  { weight: 12, arbitrary: fc.constant(null) },
  fc.constantFrom(
    'gzip',
    'x-gzip',
    'deflate',
    'br',
    'zstd',
    'compress',
    '*',
    'identity',
    'IDENTITY',
    ' identity ',
    'gzip, identity',
    'identity, gzip',
    '',
  ),
);

/** True for a Content-Encoding header that leaves the body as it is. */
export const isIdentity = (coding: string | null): boolean =>
  coding === null || /^\s*(identity)?\s*$/i.test(coding);

/** The body as the coding would send it, compressed for real where the coding is one zlib has. */
export function encodeBody(coding: string | null, bytes: Buffer, compress: boolean): Buffer {
  if (!compress) return bytes;
  switch ((coding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return gzipSync(bytes);
    case 'deflate':
      return deflateSync(bytes);
    case 'br':
      return brotliCompressSync(bytes);
    default:
      return bytes;
  }
}
