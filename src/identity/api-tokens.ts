import { randomBytes } from 'node:crypto';
import { constantTimeEqual, sha256Hex } from '../core/crypto.js';
import type { PrincipalId } from '../core/ids.js';
import type { ApiTokenCaller, Authenticator, Principal } from './principal.js';
import type { Role } from './roles.js';

/** A principal configured with the SHA-256 of its bearer token; the token itself is never stored. */
export interface ApiTokenPrincipal {
  readonly id: string;
  readonly roles: readonly Role[];
  readonly groups?: readonly string[];
  readonly tokenSha256: string;
}

const TOKEN_PREFIX = 'cs_';

/** A new random bearer token and the hash to put in configuration. */
export function newApiToken(): { token: string; sha256: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, sha256: sha256Hex(token) };
}

/**
 * Bearer API tokens for bootstrap and dev. The presented token is hashed and looked
 * up by hash, then compared in constant time.
 */
export class ApiTokenAuthenticator implements Authenticator {
  readonly #byHash: ReadonlyMap<string, ApiTokenCaller & { readonly hash: string }>;

  constructor(principals: readonly ApiTokenPrincipal[]) {
    this.#byHash = new Map(
      principals.map((p) => [
        p.tokenSha256.toLowerCase(),
        {
          id: p.id as PrincipalId,
          roles: p.roles,
          groups: p.groups ?? [],
          via: 'api_token' as const,
          hash: p.tokenSha256.toLowerCase(),
        },
      ]),
    );
  }

  authenticate(authorization: string | undefined): Promise<Principal | null> {
    // The scheme is case-insensitive (RFC 9110 §11.1); the token is compared as sent.
    const m = /^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9._~+/=-]{8,4096})$/.exec(authorization ?? '');
    if (!m) return Promise.resolve(null);
    const hash = sha256Hex(m[1] as string);
    const found = this.#byHash.get(hash);
    if (!found || !constantTimeEqual(found.hash, hash)) return Promise.resolve(null);
    const { hash: _hash, ...principal } = found;
    return Promise.resolve(principal);
  }
}
