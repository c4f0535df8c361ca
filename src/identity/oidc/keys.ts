import { createRemoteJWKSet, errors, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import type { Clock } from '../../core/clock.js';
import type { TrustedIssuer } from './config.js';
import { discoverJwksUri } from './discovery.js';
import { JwksUnavailable } from './jose-errors.js';

export interface KeySourceOptions {
  readonly clock: Clock;
  /** Timeout of each discovery and JWKS request. Default 5 s. */
  readonly httpTimeoutMs: number;
  /** jose: how soon an unknown `kid` may trigger another JWKS fetch. Default 30 s. */
  readonly jwksCooldownMs: number;
  /** jose: how long fetched keys are trusted before a refetch. Default 10 min. */
  readonly jwksCacheMaxAgeMs: number;
  /** How long a discovered `jwks_uri` is used before discovery runs again. Default 1 h. */
  readonly discoveryTtlMs: number;
  /** How long a failed discovery is remembered, so a dead IdP is not hammered. Default 30 s. */
  readonly discoveryRetryMs: number;
}

type Discovered =
  | { readonly kind: 'ok'; readonly uri: string; readonly jwks: RemoteJWKSet; readonly at: number }
  | { readonly kind: 'failed'; readonly error: unknown; readonly at: number };

/**
 * The signing keys of one issuer: a jose remote JWKS (which owns caching, cooldown and
 * rotation), found through the configured `jwksUri` or through OIDC discovery.
 */
export class IssuerKeys {
  readonly #issuer: TrustedIssuer;
  readonly #opts: KeySourceOptions;
  #pinned: RemoteJWKSet | null = null;
  #discovered: Discovered | null = null;
  #pending: Promise<RemoteJWKSet> | null = null;

  constructor(issuer: TrustedIssuer, opts: KeySourceOptions) {
    this.#issuer = issuer;
    this.#opts = opts;
  }

  #remote(uri: string | URL): RemoteJWKSet {
    return createRemoteJWKSet(new URL(uri), {
      timeoutDuration: this.#opts.httpTimeoutMs,
      cooldownDuration: this.#opts.jwksCooldownMs,
      cacheMaxAge: this.#opts.jwksCacheMaxAgeMs,
    });
  }

  /** The key set to verify with; may run discovery (throws `ISSUER_DISCOVERY_FAILED`). */
  async jwks(): Promise<RemoteJWKSet> {
    if (this.#issuer.jwksUri !== null) {
      this.#pinned ??= this.#remote(this.#issuer.jwksUri);
      return this.#pinned;
    }
    const now = this.#opts.clock.now().getTime();
    const d = this.#discovered;
    if (d?.kind === 'ok' && now - d.at < this.#opts.discoveryTtlMs) return d.jwks;
    if (d?.kind === 'failed' && now - d.at < this.#opts.discoveryRetryMs) throw d.error;
    this.#pending ??= this.#discover(now).finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #discover(now: number): Promise<RemoteJWKSet> {
    const previous = this.#discovered;
    try {
      const uri = (await discoverJwksUri(this.#issuer, this.#opts.httpTimeoutMs)).href;
      // Keep jose's cache when the document still names the same key set.
      const jwks =
        previous?.kind === 'ok' && previous.uri === uri ? previous.jwks : this.#remote(uri);
      this.#discovered = { kind: 'ok', uri, jwks, at: now };
      return jwks;
    } catch (error) {
      this.#discovered = { kind: 'failed', error, at: now };
      throw error;
    }
  }

  /**
   * A jose key resolver. Failures to *obtain* keys become {@link JwksUnavailable}; the
   * answers that are about the token (no key for its `kid`, several candidates, an
   * unsupported `alg`) pass through unchanged.
   */
  resolver(jwks: RemoteJWKSet): JWTVerifyGetKey {
    return async (header, token) => {
      try {
        return await jwks(header, token);
      } catch (e) {
        if (
          e instanceof errors.JWKSNoMatchingKey ||
          e instanceof errors.JWKSMultipleMatchingKeys ||
          e instanceof errors.JOSENotSupported
        ) {
          throw e;
        }
        throw new JwksUnavailable(e);
      }
    };
  }
}
