import { errors } from 'jose';
import type { TrustedIssuer } from './config.js';
import { tokenError, type IdentityTokenError, type IdentityTokenErrorCode } from './errors.js';

/** Raised by the key resolver when the issuer's JWKS cannot be had; never the caller's fault. */
export class JwksUnavailable extends Error {
  constructor(cause: unknown) {
    super('JWKS unavailable', { cause });
    this.name = 'JwksUnavailable';
  }
}

const CLAIM_CODES: Readonly<Record<string, IdentityTokenErrorCode>> = {
  iss: 'TOKEN_ISSUER_INVALID',
  aud: 'TOKEN_AUDIENCE_INVALID',
  nbf: 'TOKEN_NOT_YET_VALID',
  iat: 'TOKEN_NOT_YET_VALID',
  exp: 'TOKEN_EXPIRED',
};

/**
 * Turns what jose (or the key resolver) threw into one stable code. Claim failures name
 * the claim. Only upstream failures keep a `cause`: jose's claim errors carry the
 * whole payload, which has no place in logs.
 */
export function mapVerifyError(e: unknown, issuer: TrustedIssuer): IdentityTokenError {
  const issuerName = issuer.name;
  if (e instanceof JwksUnavailable) {
    return tokenError(
      'JWKS_UNAVAILABLE',
      `the keys of issuer ${issuerName} could not be fetched`,
      { issuerName },
      e.cause,
    );
  }
  if (e instanceof errors.JWTExpired) {
    // jose raises JWTExpired for `exp`, and for `iat` older than maxTokenAge.
    const claim = e.claim === 'iat' ? 'iat' : 'exp';
    const why = claim === 'iat' ? 'is older than the issuer allows' : 'has passed';
    return tokenError('TOKEN_EXPIRED', `the "${claim}" claim ${why}`, { claim, issuerName });
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    const claim = e.claim;
    // A missing or wrong `iss`/`aud` is an issuer or audience failure; a missing or
    // mistyped time claim, or a wrong `typ` header, is a claim failure.
    const code =
      claim === 'iss' || claim === 'aud' || e.reason === 'check_failed'
        ? CLAIM_CODES[claim]
        : undefined;
    if (code === undefined) {
      const what = claim === 'typ' ? 'header' : 'claim';
      return tokenError(
        'TOKEN_CLAIM_INVALID',
        `the "${claim}" ${what} is ${e.reason === 'missing' ? 'missing' : 'invalid'}`,
        {
          claim,
          issuerName,
          reason: e.reason,
        },
      );
    }
    return tokenError(code, `the "${claim}" claim failed verification`, { claim, issuerName });
  }
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return tokenError(
      'TOKEN_ALG_REJECTED',
      `the algorithm is not allowed for issuer ${issuerName}`,
      {
        claim: 'alg',
        issuerName,
      },
    );
  }
  if (e instanceof errors.JWKSNoMatchingKey) {
    return tokenError(
      'TOKEN_KEY_UNKNOWN',
      `issuer ${issuerName} publishes no key for the token's kid`,
      {
        claim: 'kid',
        issuerName,
      },
    );
  }
  if (e instanceof errors.JWKSMultipleMatchingKeys) {
    return tokenError(
      'TOKEN_KEY_UNKNOWN',
      `the token names no kid and issuer ${issuerName} publishes several candidate keys`,
      { claim: 'kid', issuerName, reason: 'ambiguous' },
    );
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return tokenError('TOKEN_SIGNATURE_INVALID', `the signature does not verify`, { issuerName });
  }
  if (e instanceof errors.JWKInvalid || e instanceof errors.JWKSInvalid) {
    return tokenError('JWKS_UNAVAILABLE', `the keys of issuer ${issuerName} are malformed`, {
      issuerName,
    });
  }
  // JWTInvalid, JWSInvalid, JOSENotSupported (unknown crit, unusable key), TypeError…
  return tokenError('TOKEN_MALFORMED', 'the token is not a valid signed JWT', { issuerName });
}
