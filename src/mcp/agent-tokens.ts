/**
 * Which agent a downstream HTTP session speaks for: the workload token it presents as a
 * Bearer credential, verified here against its issuer's published keys, names the
 * agent's NHI through a template over its claims (`agent:{sub}`). The gateway still
 * redeems with its own credential: the token identifies, it never authorises.
 */
import type { AuthInfo, OAuthTokenVerifier } from '@modelcontextprotocol/server';
import { OAuthError, OAuthErrorCode } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { assertNhiId } from '../core/vocabulary.js';

export interface AgentTokenConfig {
  readonly issuer: string;
  readonly audience: string;
  /** The issuer's JWKS; by default `<issuer>/.well-known/jwks.json`. */
  readonly jwksUri?: string | undefined;
  /** The agent's NHI id, spelt from the token's claims, e.g. `agent:{sub}`. */
  readonly subject: string;
}

/** Where `AuthInfo.extra` carries the agent the token names. */
export const AGENT_KEY = 'countersignAgent';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The NHI a token's claims name, or why none: every claim used must be a plain string. */
export function agentOf(template: string, claims: JWTPayload): string {
  const id = template.replace(PLACEHOLDER, (_, name: string) => {
    const v = claims[name];
    if (typeof v !== 'string' || !/^[A-Za-z0-9._@/-]{1,200}$/.test(v)) {
      throw new OAuthError(OAuthErrorCode.InvalidToken, `the token's ${name} names no agent`);
    }
    return v;
  });
  try {
    assertNhiId(id);
  } catch {
    throw new OAuthError(OAuthErrorCode.InvalidToken, 'the token names no valid agent id');
  }
  return id;
}

export function agentTokenVerifier(c: AgentTokenConfig): OAuthTokenVerifier {
  const jwks = createRemoteJWKSet(
    new URL(c.jwksUri ?? `${c.issuer.replace(/\/$/, '')}/.well-known/jwks.json`),
  );
  return {
    async verifyAccessToken(token): Promise<AuthInfo> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: c.issuer,
          audience: c.audience,
          algorithms: ['RS256', 'ES256', 'EdDSA'],
          requiredClaims: ['exp'],
        }));
      } catch {
        // Never the token, nor jose's reason (which can quote claims).
        throw new OAuthError(OAuthErrorCode.InvalidToken, 'the agent token does not verify');
      }
      const agent = agentOf(c.subject, payload);
      return {
        token,
        clientId: agent,
        scopes: [],
        expiresAt: payload.exp as number,
        extra: { [AGENT_KEY]: agent },
      };
    },
  };
}
