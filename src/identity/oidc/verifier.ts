import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../core/clock.js';
import type { TrustedIssuer } from './config.js';
import { tokenError } from './errors.js';
import { buildIdentity, type VerifiedIdentity } from './identity.js';
import { mapVerifyError } from './jose-errors.js';
import { IssuerKeys, type KeySourceOptions } from './keys.js';
import { REPLAY_RETENTION_LEEWAY_SECONDS } from './replay.js';

export type { VerifiedIdentity } from './identity.js';

/** Tokens longer than this are refused before any parsing. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

export interface TokenVerifierOptions extends Partial<Omit<KeySourceOptions, 'clock'>> {
  readonly clock: Clock;
  /**
   * Allowed skew between our clock and the issuer's, applied to `exp`, `nbf` and `iat`.
   * Default 30 s; at most {@link REPLAY_RETENTION_LEEWAY_SECONDS}, so the replay guard
   * still remembers a token for as long as it verifies.
   */
  readonly clockToleranceSeconds?: number;
  readonly maxTokenLength?: number;
}

/** Three base64url parts, the last possibly empty (as in an `alg: none` token). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether `token` has the shape of a compact JWS JWT (says nothing of its validity). */
export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWS.test(token);
}

function malformed(what: string): Error {
  return tokenError('TOKEN_MALFORMED', `the token is malformed: ${what}`);
}

/**
 * Verifies identity tokens from a fixed list of trusted issuers.
 *
 * The order of checks is the security argument:
 * 1. The token's *unverified* `iss` only selects a configured issuer, compared exactly;
 *    an unknown `iss` is refused before any network request, so no token can make us
 *    fetch a URL of its choosing.
 * 2. The header `alg` must be in that issuer's allow-list (never `none`, never `HS*`),
 *    also before any network request.
 * 3. jose verifies the signature with a key from that issuer's JWKS only, then `iss`,
 *    `aud`, `exp`, `nbf`, `iat` and `typ` against our injected clock.
 *
 * @example
 * const verifier = new TokenVerifier(config.issuers, { clock: systemClock });
 * const identity = await verifier.verify(token); // throws CountersignError<IdentityTokenErrorCode>
 */
export class TokenVerifier {
  readonly #issuers: ReadonlyMap<string, TrustedIssuer>;
  readonly #keys: ReadonlyMap<string, IssuerKeys>;
  readonly #clock: Clock;
  readonly #tolerance: number;
  readonly #maxLength: number;

  constructor(issuers: readonly TrustedIssuer[], options: TokenVerifierOptions) {
    const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    if (
      !Number.isInteger(tolerance) ||
      tolerance < 0 ||
      tolerance > REPLAY_RETENTION_LEEWAY_SECONDS
    ) {
      throw new RangeError(
        `clockToleranceSeconds must be an integer from 0 to ${REPLAY_RETENTION_LEEWAY_SECONDS}`,
      );
    }
    const keyOptions: KeySourceOptions = {
      clock: options.clock,
      httpTimeoutMs: options.httpTimeoutMs ?? 5_000,
      jwksCooldownMs: options.jwksCooldownMs ?? 30_000,
      jwksCacheMaxAgeMs: options.jwksCacheMaxAgeMs ?? 600_000,
      discoveryTtlMs: options.discoveryTtlMs ?? 3_600_000,
      discoveryRetryMs: options.discoveryRetryMs ?? 30_000,
    };
    this.#issuers = new Map(issuers.map((i) => [i.issuer, i]));
    this.#keys = new Map(issuers.map((i) => [i.issuer, new IssuerKeys(i, keyOptions)]));
    this.#clock = options.clock;
    this.#tolerance = tolerance;
    this.#maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  }

  /** Verifies `token` and returns who it proves the caller is; throws a typed error otherwise. */
  async verify(token: string): Promise<VerifiedIdentity> {
    if (token.length > this.#maxLength) throw malformed('too long');
    if (!COMPACT_JWS.test(token)) throw malformed('not a compact JWS');
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch {
      throw malformed('the header or payload is not base64url JSON');
    }
    if (typeof iss !== 'string' || iss.length === 0) {
      throw tokenError('TOKEN_ISSUER_INVALID', 'the "iss" claim is missing or not a string', {
        claim: 'iss',
      });
    }
    // A Map lookup compares strings exactly; the untrusted value is never echoed.
    const issuer = this.#issuers.get(iss);
    const keys = this.#keys.get(iss);
    if (!issuer || !keys) {
      throw tokenError('TOKEN_ISSUER_UNTRUSTED', 'the "iss" claim names no trusted issuer', {
        claim: 'iss',
      });
    }
    if (typeof alg !== 'string' || !(issuer.algorithms as readonly string[]).includes(alg)) {
      throw tokenError(
        'TOKEN_ALG_REJECTED',
        `the algorithm is not allowed for issuer ${issuer.name}`,
        {
          claim: 'alg',
          issuerName: issuer.name,
        },
      );
    }
    const jwks = await keys.jwks();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.resolver(jwks), {
        algorithms: [...issuer.algorithms],
        issuer: issuer.issuer,
        audience: issuer.audience,
        currentDate: this.#clock.now(),
        clockTolerance: this.#tolerance,
        requiredClaims: ['exp'],
        ...(issuer.maxTokenAgeSeconds === null ? {} : { maxTokenAge: issuer.maxTokenAgeSeconds }),
        ...(issuer.typ === null ? {} : { typ: issuer.typ }),
      }));
    } catch (e) {
      throw mapVerifyError(e, issuer);
    }
    if (issuer.kind === 'human') checkAuthorizedParty(issuer, payload);
    return buildIdentity(issuer, payload, token);
  }
}

/**
 * OIDC Core §3.1.3.7: when an ID token has several audiences, `azp` must be present and
 * name us; when `azp` is present it must name us.
 */
function checkAuthorizedParty(issuer: TrustedIssuer, payload: JWTPayload): void {
  const azp = payload['azp'];
  const several = Array.isArray(payload.aud) && payload.aud.length > 1;
  if ((several || azp !== undefined) && azp !== issuer.audience) {
    throw tokenError('TOKEN_AUDIENCE_INVALID', 'the "azp" claim does not name this service', {
      claim: 'azp',
      issuerName: issuer.name,
    });
  }
}
