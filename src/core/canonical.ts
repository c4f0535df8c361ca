import canonicalizeModule from 'canonicalize';
import { sha256Hex } from './crypto.js';
import { CountersignError, type CoreErrorCode } from './errors.js';

// canonicalize ships CommonJS typings; normalise the default export under NodeNext.
const canonicalize = canonicalizeModule;

/**
 * RFC 8785 (JCS) canonical JSON. Values JCS cannot represent faithfully
 * (`undefined`, non-finite numbers, functions, bigint, and strings or keys holding a
 * lone UTF-16 surrogate) are refused with `NON_CANONICAL_VALUE` rather than silently
 * dropped or replaced, so a digest always covers exactly what was submitted.
 */
export function canonicalJson(value: unknown): string {
  assertCanonicalisable(value, '$', 0);
  const out = canonicalize(value);
  if (out === undefined) throw fail('$');
  return out;
}

/**
 * Throws `NON_CANONICAL_VALUE` for a value JCS cannot represent, naming where, and for
 * -0, which JCS writes as 0 (RFC 8785 §3.2.2.3): for input from outside (an agent's
 * tool arguments), two different values must not share one digest.
 */
export function assertStrictlyCanonical(value: unknown): void {
  assertCanonicalisable(value, '$', 0, true);
}

/** `sha256:` + hex SHA-256 of the canonical JSON. */
export function digestOf(value: unknown): `sha256:${string}` {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}

function fail(path: string): CountersignError<CoreErrorCode> {
  return new CountersignError('NON_CANONICAL_VALUE', `value at ${path} cannot be canonicalised`);
}

function assertCanonicalisable(v: unknown, path: string, depth: number, strict = false): void {
  if (depth > 64) throw fail(path);
  switch (typeof v) {
    case 'string':
      // JCS input is I-JSON (RFC 8785 §3.1), whose strings hold no surrogate code points
      // (RFC 7493 §2.1), and its UTF-8 output could not encode one (RFC 3629 §3).
      if (!v.isWellFormed()) throw fail(path);
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(v) || (strict && Object.is(v, -0))) throw fail(path);
      return;
    case 'object':
      if (v === null) return;
      if (Array.isArray(v)) {
        v.forEach((x, i) => assertCanonicalisable(x, `${path}[${i}]`, depth + 1, strict));
        return;
      }
      for (const [k, x] of Object.entries(v)) {
        // The path names the key only when it is printable as it stands.
        if (!k.isWellFormed()) throw fail(`${path}.<ill-formed key>`);
        assertCanonicalisable(x, `${path}.${k}`, depth + 1, strict);
      }
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw fail(path);
  }
}
