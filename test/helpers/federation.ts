import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { CountersignError } from '../../src/core/errors.js';
import { parseOidcConfig, type OidcConfig } from '../../src/identity/oidc/config.js';
import type { IdentityTokenErrorCode } from '../../src/identity/oidc/errors.js';
import { TokenVerifier, type TokenVerifierOptions } from '../../src/identity/oidc/verifier.js';
import { expectCodeAsync } from './expect-code.js';
import { TestIssuer, timeClaims, type TestIssuerOptions } from './oidc-issuer.js';

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
  /**
   * A verifier that trusts only `issuer`, under `name`, as `kind` signing with
   * `algorithm`; `extra` adds to its config entry.
   */
  soleVerifier(
    name: string,
    issuer: TestIssuer,
    kind: string,
    algorithm: string,
    extra?: Record<string, unknown>,
    options?: Partial<TokenVerifierOptions>,
  ): TokenVerifier;
  close(): Promise<void>;
}

export function federationConfig(f: Readonly<Record<IssuerName, TestIssuer>>) {
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
        boundClaims: { repository_owner: 'acme' },
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

/** The four loopback issuers of the federation, by the role they play. */
export type IssuerName = 'corp' | 'github' | 'k8s' | 'spiffe';
export type Issuers<K extends IssuerName = IssuerName> = Readonly<Record<K, TestIssuer>> & {
  close(): Promise<void>;
};

const ISSUER_OPTIONS: Readonly<Record<IssuerName, TestIssuerOptions>> = {
  corp: { path: '/realms/corp', kidPrefix: 'corp' },
  github: { kidPrefix: 'gha' },
  k8s: { kidPrefix: 'k8s' },
  spiffe: { kidPrefix: 'spire' },
};
const ALL_ISSUERS: readonly IssuerName[] = ['corp', 'github', 'k8s', 'spiffe'];

/**
 * Starts loopback issuers named `names` (all four by default). Started again, they are
 * impostors: other keys and origins, but kids that collide with the first ones'.
 */
export async function startIssuers<K extends IssuerName = IssuerName>(
  names: readonly K[] = ALL_ISSUERS as readonly K[],
): Promise<Issuers<K>> {
  const started = await Promise.all(names.map((n) => TestIssuer.start(ISSUER_OPTIONS[n])));
  const byName = Object.fromEntries(names.map((n, i) => [n, started[i]])) as Record<K, TestIssuer>;
  return {
    ...byName,
    close: async () => {
      await Promise.all(started.map((i) => i.close()));
    },
  };
}

export async function startFederation(): Promise<Federation> {
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  const issuers = await startIssuers();
  const config = parseOidcConfig(federationConfig(issuers));
  return {
    ...issuers,
    clock,
    config,
    verifier: (options = {}) => new TokenVerifier(config.issuers, { clock, ...options }),
    soleVerifier: (name, { issuer }, kind, algorithm, extra = {}, options = {}) => {
      const entry = { name, issuer, kind, audience: AUDIENCE, algorithms: [algorithm], ...extra };
      return new TokenVerifier(parseOidcConfig({ issuers: [entry] }).issuers, {
        clock,
        ...options,
      });
    },
  };
}

/**
 * Starts a federation before the tests of the enclosing suite (or file) and closes it
 * after them. The object is filled in by that hook: read it inside tests and hooks.
 */
export function useFederation(): Federation {
  const f = {} as Federation;
  beforeAll(async () => {
    Object.assign(f, await startFederation());
  });
  afterAll(async () => {
    await f.close();
  });
  return f;
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
  const err = await expectCodeAsync(() => promise, code);
  for (const part of token?.split('.') ?? []) {
    if (part.length >= 16) expect(err.message).not.toContain(part);
    if (part.length >= 16) expect(JSON.stringify(err.details)).not.toContain(part);
  }
  return err;
}
