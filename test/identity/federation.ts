import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { CountersignError } from '../../src/core/errors.js';
import { parseOidcConfig, type OidcConfig } from '../../src/identity/oidc/config.js';
import type { IdentityTokenErrorCode } from '../../src/identity/oidc/errors.js';
import { TokenVerifier, type TokenVerifierOptions } from '../../src/identity/oidc/verifier.js';
import { TestIssuer, timeClaims } from '../helpers/oidc-issuer.js';

export const AUDIENCE = 'countersign';

/** Four loopback issuers, one per kind, and a verifier that trusts them all. */
export interface Federation {
  readonly clock: ManualClock;
  readonly corp: TestIssuer;
  readonly github: TestIssuer;
  readonly k8s: TestIssuer;
  readonly spiffe: TestIssuer;
  readonly config: OidcConfig;
  verifier(options?: Partial<TokenVerifierOptions>): TokenVerifier;
  close(): Promise<void>;
}

export function federationConfig(f: Pick<Federation, 'corp' | 'github' | 'k8s' | 'spiffe'>) {
  return {
    issuers: [
      {
        name: 'corp-sso',
        issuer: f.corp.issuer,
        kind: 'human',
        audience: AUDIENCE,
        algorithms: ['RS256', 'ES256'],
        claims: { subject: 'sub', groups: 'groups' },
        roles: {
          sre: ['approver'],
          platform: ['requester'],
          auditors: ['auditor'],
          admins: ['admin'],
        },
        maxTokenAge: '1h',
      },
      {
        name: 'gha',
        issuer: f.github.issuer,
        kind: 'github_actions',
        audience: AUDIENCE,
        algorithms: ['RS256'],
        workloadRoles: ['executor'],
      },
      {
        name: 'k8s-prod',
        issuer: f.k8s.issuer,
        kind: 'kubernetes',
        audience: AUDIENCE,
        algorithms: ['RS256', 'ES256'],
        jwksUri: f.k8s.jwksUri,
        workloadRoles: ['executor', 'observer'],
      },
      {
        name: 'spire',
        issuer: f.spiffe.issuer,
        kind: 'spiffe',
        audience: AUDIENCE,
        algorithms: ['ES256'],
        workloadRoles: ['executor'],
      },
    ],
    approvalAuthMaxAge: '10m',
  };
}

export async function startFederation(): Promise<Federation> {
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  const [corp, github, k8s, spiffe] = await Promise.all([
    TestIssuer.start({ path: '/realms/corp', kidPrefix: 'corp' }),
    TestIssuer.start({ kidPrefix: 'gha' }),
    TestIssuer.start({ kidPrefix: 'k8s' }),
    TestIssuer.start({ kidPrefix: 'spire' }),
  ]);
  const config = parseOidcConfig(federationConfig({ corp, github, k8s, spiffe }));
  return {
    clock,
    corp,
    github,
    k8s,
    spiffe,
    config,
    verifier: (options = {}) => new TokenVerifier(config.issuers, { clock, ...options }),
    close: async () => {
      await Promise.all([corp.close(), github.close(), k8s.close(), spiffe.close()]);
    },
  };
}

/** Claims of a person who signed in `authAgeSeconds` ago, in groups sre and platform. */
export function humanClaims(
  now: Date,
  overrides: Record<string, unknown> = {},
  authAgeSeconds = 60,
): Record<string, unknown> {
  const t = Math.floor(now.getTime() / 1000);
  return {
    ...timeClaims(now),
    jti: randomUUID(),
    aud: AUDIENCE,
    sub: 'alice',
    email: 'alice@example.com',
    groups: ['sre', 'platform'],
    auth_time: t - authAgeSeconds,
    ...overrides,
  };
}

/**
 * Awaits a refusal and checks its code, and that the message echoes no part of the
 * token (each dot-separated part is long enough that a match would not be chance).
 */
export async function expectRefused(
  promise: Promise<unknown>,
  code: IdentityTokenErrorCode,
  token?: string,
): Promise<CountersignError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(CountersignError);
  const err = caught as CountersignError;
  expect(err.code).toBe(code);
  for (const part of token?.split('.') ?? []) {
    if (part.length >= 16) expect(err.message).not.toContain(part);
    if (part.length >= 16) expect(JSON.stringify(err.details)).not.toContain(part);
  }
  return err;
}
