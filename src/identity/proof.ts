import { Type, type Static } from '@sinclair/typebox';
import { Sha256Schema, Strict, type Frozen } from '../core/schema.js';
import type { Principal } from './principal.js';

export const IdentityProofSchema = Type.Union([
  Type.Object({ via: Type.Literal('api_token') }, Strict),
  Type.Object(
    {
      via: Type.Literal('oidc'),
      issuer: Type.String(),
      subject: Type.String(),
      auth_time: Type.Union([Type.Number(), Type.Null()]),
      token_digest: Sha256Schema,
    },
    Strict,
  ),
]);

/**
 * What the log records about how a caller proved who it is, so that "who approved"
 * and "who redeemed" can be shown later without keeping any credential.
 *
 * - `api_token`: a static bearer token; the principal id is the whole proof.
 * - `oidc`: a verified federated token: its issuer, the subject it names, when the
 *   person signed in (`auth_time`, OIDC Core §2; null when the token has none) and
 *   `token_digest`, the SHA-256 of the token's `jti` or, failing that, of the token.
 *   Given the IdP's records (or the token itself), the digest ties the event to one
 *   sign-in; it reveals nothing usable to replay.
 *
 * Field names follow JWT claim naming, as receipts carry this object as a claim.
 */
export type IdentityProof = Frozen<Static<typeof IdentityProofSchema>>;

/** The proof of how `p` authenticated. */
export function identityProof(p: Principal): IdentityProof {
  switch (p.via) {
    case 'api_token':
      return { via: 'api_token' };
    case 'oidc':
      return {
        via: 'oidc',
        issuer: p.identity.issuer,
        subject: p.identity.subject,
        auth_time: p.identity.authTime,
        token_digest: p.identity.tokenDigest,
      };
  }
}
