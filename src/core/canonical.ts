import canonicalizeModule from 'canonicalize';
import { sha256Hex } from './crypto.js';
import { CountersignError, type CoreErrorCode } from './errors.js';

// canonicalize ships CommonJS typings; normalise the default export under NodeNext.
const canonicalize = canonicalizeModule;

/**
 * RFC 8785 (JCS) canonical JSON. Values JCS cannot represent faithfully
 * (`undefined`, non-finite numbers, functions, bigint) are refused rather than
 * silently dropped, so a digest always covers exactly what was submitted.
 */
export function canonicalJson(value: unknown): string {
  assertCanonicalisable(value, '$', 0);
  const out = canonicalize(value);
  if (out === undefined) throw fail('$');
  return out;
}

/** `sha256:` + hex SHA-256 of the canonical JSON. */
export function digestOf(value: unknown): `sha256:${string}` {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}

function fail(path: string): CountersignError<CoreErrorCode> {
  return new CountersignError('NON_CANONICAL_VALUE', `value at ${path} cannot be canonicalised`);
}

function assertCanonicalisable(v: unknown, path: string, depth: number): void {
  if (depth > 64) throw fail(path);
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(v)) throw fail(path);
      return;
    case 'object':
      if (v === null) return;
      if (Array.isArray(v)) {
        v.forEach((x, i) => assertCanonicalisable(x, `${path}[${i}]`, depth + 1));
        return;
      }
      for (const [k, x] of Object.entries(v)) assertCanonicalisable(x, `${path}.${k}`, depth + 1);
      return;
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      throw fail(path);
  }
}
