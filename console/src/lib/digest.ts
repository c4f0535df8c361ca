/**
 * What you see is what you sign: the request id is `sha256:<hex>` of the RFC 8785
 * canonical JSON of the request body (src/core/ids.ts, src/core/canonical.ts). The
 * console renders the body it received and recomputes that digest from the very same
 * object here, in the browser, before the approve button may be pressed.
 */
import canonicalize from 'canonicalize';
import { sha256, toHex, utf8 } from './bytes.js';

/** src/core/ids.ts REQUEST_ID_PATTERN. */
export const REQUEST_ID_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function isRequestId(s: string): boolean {
  return REQUEST_ID_PATTERN.test(s);
}

/**
 * RFC 8785 canonical JSON, or `undefined` for a value JCS cannot represent faithfully
 * (as the server's `canonicalJson` refuses it): non-finite numbers, `undefined`,
 * functions, bigint, lone surrogates, nesting deeper than 64.
 */
export function canonicalJson(value: unknown): string | undefined {
  if (!canonicalisable(value, 0)) return undefined;
  return canonicalize(value);
}

function canonicalisable(v: unknown, depth: number): boolean {
  if (depth > 64) return false;
  switch (typeof v) {
    case 'string':
      return v.isWellFormed();
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object':
      if (v === null) return true;
      if (Array.isArray(v)) return v.every((x) => canonicalisable(x, depth + 1));
      return Object.entries(v).every(([k, x]) => k.isWellFormed() && canonicalisable(x, depth + 1));
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return false;
  }
}

/** `sha256:` + hex SHA-256 of the canonical JSON, or `undefined` when it has none. */
export async function digestOf(value: unknown): Promise<string | undefined> {
  const json = canonicalJson(value);
  if (json === undefined) return undefined;
  return `sha256:${toHex(await sha256(utf8(json)))}`;
}

export type DigestCheck =
  | { readonly ok: true; readonly digest: string; readonly canonical: string }
  | {
      readonly ok: false;
      readonly reason: 'bad_id' | 'not_canonical' | 'mismatch';
      readonly digest: string | null;
      readonly canonical: string | null;
    };

/**
 * Recomputes the digest of `body` and compares it with `id`. Anything but an exact
 * match (an id not of the form `sha256:<64 hex>`, a body that cannot be canonicalised,
 * a different digest) fails.
 */
export async function checkRequestDigest(body: unknown, id: string): Promise<DigestCheck> {
  const canonical = canonicalJson(body);
  if (canonical === undefined) {
    return { ok: false, reason: 'not_canonical', digest: null, canonical: null };
  }
  const digest = `sha256:${toHex(await sha256(utf8(canonical)))}`;
  if (!isRequestId(id)) return { ok: false, reason: 'bad_id', digest, canonical };
  if (digest !== id) return { ok: false, reason: 'mismatch', digest, canonical };
  return { ok: true, digest, canonical };
}
