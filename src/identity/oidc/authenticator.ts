import { epochSeconds } from '../../core/clock.js';
import type { PrincipalId } from '../../core/ids.js';
import type { FederatedPrincipal, Principal } from '../principal.js';
import { tokenError } from './errors.js';
import type { VerifiedIdentity } from './identity.js';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS, looksLikeJwt } from './verifier.js';

/** What the authenticator needs of a verifier; `TokenVerifier` is one. */
export interface IdentityTokenVerifier {
  verify(token: string): Promise<VerifiedIdentity>;
}

/** The authenticator to ask about every credential that is not a JWT. */
export interface FallbackAuthenticator<P> {
  authenticate(authorization: string | undefined): Promise<P | null>;
}

const BEARER = /^bearer +(\S+)$/i;

/** The principal for a verified identity. */
export function federatedPrincipal(identity: VerifiedIdentity): FederatedPrincipal {
  return Object.freeze({
    id: `${identity.issuerName}:${identity.subject}` as PrincipalId,
    roles: identity.roles,
    groups: identity.groups,
    claimedGroups: identity.claimedGroups,
    via: 'oidc' as const,
    identity,
  });
}

/**
 * Authenticates `Authorization: Bearer <jwt>` with a {@link IdentityTokenVerifier} and
 * hands every other credential (API tokens, which contain no dots) to `fallback`.
 *
 * A JWT-shaped credential never reaches the fallback: if it fails verification the
 * caller gets the typed error (`CountersignError<IdentityTokenErrorCode>`), which the
 * HTTP edge turns into a 401 problem (503 for `ISSUER_DISCOVERY_FAILED` and
 * `JWKS_UNAVAILABLE`). Returns null only when the fallback proves nothing.
 *
 * @example
 * const auth = new FederatedAuthenticator(new TokenVerifier(oidc.issuers, { clock }),
 *   new ApiTokenAuthenticator(config.principals ?? []));
 */
export class FederatedAuthenticator<P = Principal> {
  readonly #verifier: IdentityTokenVerifier;
  readonly #fallback: FallbackAuthenticator<P> | null;

  constructor(verifier: IdentityTokenVerifier, fallback?: FallbackAuthenticator<P>) {
    this.#verifier = verifier;
    this.#fallback = fallback ?? null;
  }

  async authenticate(authorization: string | undefined): Promise<FederatedPrincipal | P | null> {
    const token = BEARER.exec(authorization ?? '')?.[1];
    if (token !== undefined && looksLikeJwt(token)) {
      return federatedPrincipal(await this.#verifier.verify(token));
    }
    return this.#fallback ? this.#fallback.authenticate(authorization) : null;
  }
}

/**
 * Refuses with `AUTH_TOO_OLD` unless the person signed in within `maxAgeSeconds` of
 * `now` (OIDC Core §2 `auth_time`; the step-up pattern of RFC 9470). Call it before
 * recording an approval, with `OidcConfig.approvalAuthMaxAgeSeconds`. A token without
 * `auth_time` (every workload token, and ID tokens the IdP minted without `max_age`)
 * fails: an approval must not ride on a session of unknown age.
 */
export function requireRecentAuth(
  identity: Pick<VerifiedIdentity, 'authTime' | 'issuerName'>,
  now: Date,
  maxAgeSeconds: number,
): void {
  const details = { claim: 'auth_time', issuerName: identity.issuerName, maxAge: maxAgeSeconds };
  if (identity.authTime === null) {
    throw tokenError(
      'AUTH_TOO_OLD',
      'an approval needs a token with an "auth_time" claim',
      details,
    );
  }
  const age = epochSeconds(now) - identity.authTime;
  if (age > maxAgeSeconds) {
    throw tokenError(
      'AUTH_TOO_OLD',
      `an approval needs a sign-in within the last ${maxAgeSeconds}s; sign in again`,
      { ...details, reason: 'stale' },
    );
  }
  if (age < -DEFAULT_CLOCK_TOLERANCE_SECONDS) {
    throw tokenError('AUTH_TOO_OLD', 'the "auth_time" claim lies in the future', {
      ...details,
      reason: 'future',
    });
  }
}
