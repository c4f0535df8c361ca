import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { bearerChallenge } from '../../src/http/challenge.js';
import { newApiToken } from '../../src/identity/api-tokens.js';
import { craftUnsigned } from '../helpers/oidc-issuer.js';
import { wireIdentity } from '../../src/server/identity.js';

const clock = new ManualClock();
const issuer = (name: string, kind: string, extra: Record<string, unknown> = {}) => ({
  name,
  issuer: `https://${name}.example`,
  kind,
  audience: 'countersign',
  algorithms: ['RS256'],
  ...extra,
});

describe('wireIdentity', () => {
  describe('when the config has no oidc section', () => {
    it('authenticates API tokens and uses the default approval window', async () => {
      const t = newApiToken();
      const w = wireIdentity(
        undefined,
        [{ id: 'ops', roles: ['admin'], tokenSha256: t.sha256 }],
        clock,
      );
      expect(w.settings.approvalAuthMaxAgeSeconds).toBe(600);
      expect(w.settings.workloadIssuers.size).toBe(0);
      await expect(w.authenticator.authenticate(`Bearer ${t.token}`)).resolves.toMatchObject({
        id: 'ops',
        via: 'api_token',
      });
    });

    it('refuses a JWT as from an untrusted issuer, never as an API token', async () => {
      const w = wireIdentity(undefined, [], clock);
      const jwt = craftUnsigned({ alg: 'none' }, { iss: 'https://x.example', sub: 'a' });
      await expect(w.authenticator.authenticate(`Bearer ${jwt}`)).rejects.toMatchObject({
        code: 'TOKEN_ISSUER_UNTRUSTED',
      });
    });
  });

  describe('when issuers are configured', () => {
    const oidc = {
      issuers: [
        issuer('corp', 'human', { roles: { sre: ['approver'] } }),
        issuer('gha', 'github_actions', {
          workloadRoles: ['executor'],
          boundClaims: { repository_owner: 'acme' },
        }),
      ],
      approvalAuthMaxAge: '5m',
    };

    it('lists the workload issuers a claim binding may name', () => {
      const w = wireIdentity(oidc, [], clock);
      expect([...w.settings.workloadIssuers]).toEqual([['https://gha.example', 'github_actions']]);
      expect(w.settings.approvalAuthMaxAgeSeconds).toBe(300);
    });

    it('refuses an API-token principal named like a federated one', () => {
      const p = {
        id: 'gha:repo:acme/deploy',
        roles: ['executor' as const],
        tokenSha256: 'a'.repeat(64),
      };
      expect(() => wireIdentity(oidc, [p], clock)).toThrow(/reserved for tokens of that issuer/);
    });

    it('refuses an invalid section with its JSON path', () => {
      const bad = {
        issuers: [
          issuer('gha', 'github_actions', {
            workloadRoles: ['admin'],
            boundClaims: { repository_owner: 'acme' },
          }),
        ],
      };
      expect(() => wireIdentity(bad, [], clock)).toThrow(/\/oidc\/issuers\/0\/workloadRoles\/0/);
    });
  });
});

describe('bearerChallenge', () => {
  it('asks for credentials, a valid token, or a fresher sign-in', () => {
    expect(bearerChallenge('UNAUTHENTICATED', undefined)).toBe('Bearer');
    expect(bearerChallenge('TOKEN_EXPIRED', { claim: 'exp' })).toBe('Bearer error="invalid_token"');
    expect(bearerChallenge('AUTH_TOO_OLD', { maxAge: 600 })).toBe(
      'Bearer error="insufficient_user_authentication", ' +
        'error_description="a more recent sign-in is required", max_age=600',
    );
  });

  it('adds no challenge to other statuses', () => {
    expect(bearerChallenge('FORBIDDEN', undefined)).toBeNull();
    expect(bearerChallenge('JWKS_UNAVAILABLE', undefined)).toBeNull();
  });
});
