import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ApiTokenAuthenticator, newApiToken } from '../../src/identity/api-tokens.js';
import {
  FederatedAuthenticator,
  requireRecentAuth,
} from '../../src/identity/oidc/authenticator.js';
import { type FederatedPrincipal } from '../../src/identity/principal.js';
import type { Principal } from '../../src/identity/principal.js';
import { craftUnsigned } from '../helpers/oidc-issuer.js';
import { AUDIENCE, expectRefused, humanClaims, useFederation } from '../helpers/federation.js';

const f = useFederation();
const api = newApiToken();
let auth: FederatedAuthenticator;
beforeAll(async () => {
  const fallback = new ApiTokenAuthenticator([
    { id: 'bootstrap', roles: ['admin'], tokenSha256: api.sha256 },
  ]);
  auth = new FederatedAuthenticator(f.verifier(), fallback);
});

describe('FederatedAuthenticator', () => {
  describe('when the bearer credential is a JWT', () => {
    it('turns a human ID token into an oidc principal named issuer:subject', async () => {
      const token = await f.corp.sign(humanClaims(f.clock.now()));
      const p = (await auth.authenticate(`Bearer ${token}`)) as FederatedPrincipal;
      expect(p).toMatchObject({
        id: 'corp-sso:alice',
        via: 'oidc',
        roles: ['requester', 'approver'],
        groups: ['sre', 'platform'],
      });
      expect(p.identity.kind).toBe('human');
    });

    it('turns a workload token into an executor principal', async () => {
      const token = await f.github.mintGithubActions(f.clock.now(), AUDIENCE);
      await expect(auth.authenticate(`bearer ${token}`)).resolves.toMatchObject({
        id: 'gha:repo:acme/deploy:environment:prod',
        via: 'oidc',
        roles: ['executor'],
        groups: [],
      });
    });

    it('throws the typed refusal instead of falling back to API tokens', async () => {
      const token = craftUnsigned(
        { alg: 'none' },
        humanClaims(f.clock.now(), { iss: f.corp.issuer }),
      );
      await expectRefused(auth.authenticate(`Bearer ${token}`), 'TOKEN_ALG_REJECTED', token);
    });
  });

  describe('when the credential is not a JWT', () => {
    it('delegates API tokens to the fallback', async () => {
      await expect(auth.authenticate(`Bearer ${api.token}`)).resolves.toMatchObject({
        id: 'bootstrap',
        via: 'api_token',
      });
    });

    it('reads the scheme in any case, as RFC 9110 §11.1 has it, and the token exactly', async () => {
      for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
        await expect(auth.authenticate(`${scheme} ${api.token}`)).resolves.toMatchObject({
          id: 'bootstrap',
        });
      }
      const flipped = api.token.replace(/[a-z]/, (c) => c.toUpperCase());
      await expect(auth.authenticate(`Bearer ${flipped}`)).resolves.toBeNull();
    });

    it('answers null for missing, unknown or non-bearer credentials', async () => {
      await expect(auth.authenticate(undefined)).resolves.toBeNull();
      await expect(auth.authenticate('Bearer cs_unknown_token_value')).resolves.toBeNull();
      await expect(auth.authenticate('Basic YWxpY2U6cGFzcw==')).resolves.toBeNull();
      await expect(
        new FederatedAuthenticator(f.verifier()).authenticate(`Bearer ${api.token}`),
      ).resolves.toBeNull();
    });
  });

  it('produces principals that differ from Principal only in via, identity and claimed groups', () => {
    type Common<T> = Omit<T, 'via' | 'identity' | 'claimedGroups'>;
    expectTypeOf<Common<FederatedPrincipal>>().toEqualTypeOf<Common<Principal>>();
  });
});

describe('requireRecentAuth', () => {
  const at = (authTime: number | null) => ({ authTime, issuerName: 'corp-sso' });
  const now = new Date('2026-03-01T12:00:00Z');
  const t = Math.floor(now.getTime() / 1000);

  it('passes a sign-in within the window, up to its edge', () => {
    expect(() => requireRecentAuth(at(t - 600), now, 600)).not.toThrow();
    expect(() => requireRecentAuth(at(t + 5), now, 600)).not.toThrow();
  });

  it('refuses a sign-in older than the window, a missing auth_time and a far-future one', async () => {
    for (const authTime of [t - 601, null, t + 3600]) {
      await expectRefused(
        Promise.resolve().then(() => requireRecentAuth(at(authTime), now, 600)),
        'AUTH_TOO_OLD',
      );
    }
  });
});
