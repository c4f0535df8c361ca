import type { Static, TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseStrictJson } from '../core/json.js';

/**
 * Reads the payload of a verified token as the claims `schema` describes, or null.
 * Duplicate keys are refused even after the signature checked out: the signer never
 * emits them, so their presence means the token was not made by us as it reads.
 * The claims come back deeply frozen, as the verifier's cache hands the same object
 * to every caller that presents the token.
 */
export function parseClaims<S extends TObject>(payload: Uint8Array, schema: S): Static<S> | null {
  let value: unknown;
  try {
    value = parseStrictJson(Buffer.from(payload).toString('utf8'));
  } catch {
    return null;
  }
  if (!Value.Check(schema, value)) return null;
  freeze(value);
  return value;
}

function freeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  for (const member of Object.values(value)) freeze(member);
  Object.freeze(value);
}
