import { CountersignError, isCountersignError } from '../../core/errors.js';

/**
 * Every reason a federated identity token is refused. The codes are part of the API:
 * the HTTP edge maps them to statuses and clients switch on them.
 *
 * - `TOKEN_MALFORMED`: not a compact JWS JWT, or its header or payload is not JSON.
 * - `TOKEN_ISSUER_UNTRUSTED`: the `iss` names no configured issuer (compared exactly).
 * - `TOKEN_ALG_REJECTED`: the header `alg` is not in the issuer's allow-list
 *   (`none` and `HS*` never are).
 * - `TOKEN_SIGNATURE_INVALID`: a key was found and the signature does not verify.
 * - `TOKEN_KEY_UNKNOWN`: the issuer's JWKS has no key for the header's `kid` and `alg`.
 * - `TOKEN_AUDIENCE_INVALID`: `aud` (or, for humans, `azp`) does not name us.
 * - `TOKEN_EXPIRED`: `exp` has passed, or `iat` is older than `maxTokenAge`.
 * - `TOKEN_NOT_YET_VALID`: `nbf` (or `iat`) lies in the future.
 * - `TOKEN_ISSUER_INVALID`: `iss` is missing or not a string, or failed verification.
 * - `TOKEN_CLAIM_INVALID`: a required claim is missing or has the wrong type
 *   (`exp`, the subject claim, `groups`, `jti`, `auth_time`, or the `typ` header).
 * - `TOKEN_REPLAYED`: the token's `jti` was already redeemed.
 * - `AUTH_TOO_OLD`: `auth_time` is missing or older than an approval allows.
 * - `ISSUER_DISCOVERY_FAILED`: the issuer's discovery document could not be fetched,
 *   or it names a different issuer; an upstream failure, not the caller's.
 * - `JWKS_UNAVAILABLE`: the issuer's JWKS could not be fetched or parsed.
 * - `REPLAY_CACHE_FULL`: the in-memory replay guard is full of unexpired entries and
 *   refuses rather than forget one.
 */
export const IDENTITY_TOKEN_ERROR_CODES = [
  'TOKEN_MALFORMED',
  'TOKEN_ISSUER_UNTRUSTED',
  'TOKEN_ALG_REJECTED',
  'TOKEN_SIGNATURE_INVALID',
  'TOKEN_KEY_UNKNOWN',
  'TOKEN_AUDIENCE_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_NOT_YET_VALID',
  'TOKEN_ISSUER_INVALID',
  'TOKEN_CLAIM_INVALID',
  'TOKEN_REPLAYED',
  'AUTH_TOO_OLD',
  'ISSUER_DISCOVERY_FAILED',
  'JWKS_UNAVAILABLE',
  'REPLAY_CACHE_FULL',
] as const;
export type IdentityTokenErrorCode = (typeof IDENTITY_TOKEN_ERROR_CODES)[number];

/** Raised by {@link parseOidcConfig} for a bad `oidc` configuration. */
export type OidcConfigErrorCode = 'CONFIG_INVALID';

/** Facts safe to put in a problem body: claim names and local issuer names, never values. */
export interface IdentityTokenErrorDetails {
  readonly claim?: string;
  readonly issuerName?: string;
  readonly reason?: string;
  /** For `AUTH_TOO_OLD`: the longest accepted age of a sign-in, in seconds. */
  readonly maxAge?: number;
}

export type IdentityTokenError = CountersignError<IdentityTokenErrorCode>;

/** @internal */
export function tokenError(
  code: IdentityTokenErrorCode,
  message: string,
  details: IdentityTokenErrorDetails = {},
  cause?: unknown,
): IdentityTokenError {
  return new CountersignError<IdentityTokenErrorCode>(code, message, {
    details: { ...details },
    ...(cause === undefined ? {} : { cause }),
  });
}

export function isIdentityTokenError(e: unknown): e is IdentityTokenError {
  return (
    isCountersignError(e) && (IDENTITY_TOKEN_ERROR_CODES as readonly string[]).includes(e.code)
  );
}
