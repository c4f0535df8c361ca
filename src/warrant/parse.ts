import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseStrictJson } from '../core/json.js';
import { ClaimMatcherSchema } from '../core/claim-matcher.js';
import type { WarrantClaims } from './warrant.js';

const ScopeEntry = Type.Object(
  {
    resource: Type.String({ maxLength: 1024 }),
    permissions: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
  },
  { additionalProperties: false },
);

const ClaimsSchema = Type.Object(
  {
    iss: Type.String(),
    jti: Type.String(),
    sub: Type.String(),
    iat: Type.Integer(),
    nbf: Type.Integer(),
    exp: Type.Integer(),
    request_id: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
    action: Type.String(),
    environment: Type.String(),
    scope: Type.Array(ScopeEntry, { maxItems: 256 }),
    targets: Type.Array(Type.String(), { maxItems: 256 }),
    executor: Type.Union([
      Type.Object(
        { kind: Type.Literal('principal'), principal: Type.String() },
        { additionalProperties: false },
      ),
      Type.Object(
        { kind: Type.Literal('claims'), matcher: ClaimMatcherSchema },
        { additionalProperties: false },
      ),
    ]),
    max_uses: Type.Integer({ minimum: 1 }),
    approvals: Type.Array(Type.String()),
    policy_version: Type.String(),
    excluded_executor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/**
 * Parses a verified warrant payload. Duplicate keys are refused even after the
 * signature checked out: the signer never emits them, so their presence means
 * the token was not made by us as it reads.
 */
export function parseWarrantClaims(payload: Uint8Array): WarrantClaims | null {
  let value: unknown;
  try {
    value = parseStrictJson(Buffer.from(payload).toString('utf8'));
  } catch {
    return null;
  }
  if (!Value.Check(ClaimsSchema, value)) return null;
  return value as unknown as WarrantClaims;
}
