import { describe, expect, it } from 'vitest';
import { timeClaims } from '../helpers/oidc-issuer.js';
import { AUDIENCE, expectRefused, humanClaims, useFederation } from '../helpers/federation.js';

const f = useFederation();

describe('TokenVerifier', () => {
  describe('when a person presents an ID token', () => {
    it('maps their groups to roles and keeps the verified claims', async () => {
      const now = f.clock.now();
      const id = await f.verifier().verify(await f.corp.sign(humanClaims(now)));
      expect(id).toMatchObject({
        kind: 'human',
        issuerKind: 'human',
        issuer: f.corp.issuer,
        issuerName: 'corp-sso',
        subject: 'alice',
        groups: ['sre', 'platform'],
        roles: ['requester', 'approver'],
        authTime: Math.floor(now.getTime() / 1000) - 60,
      });
      expect(id.claims['email']).toBe('alice@example.com');
      expect(id.tokenDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(Object.isFrozen(id.claims)).toBe(true);
    });

    it('accepts ES256 as well as RS256 when both are allowed', async () => {
      const token = await f.corp.sign(humanClaims(f.clock.now()), { alg: 'ES256' });
      await expect(f.verifier().verify(token)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('grants no roles for groups it does not know, even ones named like Object members', async () => {
      const claims = humanClaims(f.clock.now(), {
        groups: ['__proto__', 'constructor', 'toString'],
      });
      const id = await f.verifier().verify(await f.corp.sign(claims));
      expect(id.roles).toEqual([]);
    });

    it('counts only the groups its issuer is trusted for, but keeps every group it claims', async () => {
      const v = f.soleVerifier('corp-sso', f.corp, 'human', 'RS256', {
        roles: { sre: ['approver'] },
        trustedGroups: ['sre', 'team-payments'],
      });
      const claims = humanClaims(f.clock.now(), { groups: ['sre', 'security', 'team-payments'] });
      const id = await v.verify(await f.corp.sign(claims));
      expect(id.groups).toEqual(['sre', 'team-payments']);
      expect(id.claimedGroups).toEqual(['sre', 'security', 'team-payments']);
      expect(id.roles).toEqual(['approver']);
    });

    it('digests the whole token when it has no jti, and the jti when it has one', async () => {
      const v = f.verifier();
      const a = await v.verify(await f.corp.sign(humanClaims(f.clock.now(), { jti: 'same' })));
      const b = await v.verify(await f.corp.sign(humanClaims(f.clock.now(), { jti: 'same' })));
      expect(a.tokenDigest).toBe(b.tokenDigest);
      const c = await v.verify(await f.corp.sign(humanClaims(f.clock.now(), { jti: undefined })));
      expect(c.jti).toBeNull();
      expect(c.tokenDigest).not.toBe(a.tokenDigest);
    });

    it('refuses a token older than maxTokenAge even before it expires', async () => {
      const now = f.clock.now();
      const t = Math.floor(now.getTime() / 1000);
      const token = await f.corp.sign(humanClaims(now, { iat: t - 7200, nbf: t - 7200 }));
      const err = await expectRefused(f.verifier().verify(token), 'TOKEN_EXPIRED', token);
      expect(err.details).toMatchObject({ claim: 'iat' });
    });

    it('refuses a multi-audience ID token whose azp is not this service', async () => {
      const token = await f.corp.sign(humanClaims(f.clock.now(), { aud: [AUDIENCE, 'other'] }));
      const err = await expectRefused(f.verifier().verify(token), 'TOKEN_AUDIENCE_INVALID', token);
      expect(err.details).toMatchObject({ claim: 'azp' });
      const ok = await f.corp.sign(
        humanClaims(f.clock.now(), { aud: [AUDIENCE, 'other'], azp: AUDIENCE }),
      );
      await expect(f.verifier().verify(ok)).resolves.toMatchObject({ subject: 'alice' });
    });

    it('refuses a groups claim that is not a list of names', async () => {
      const token = await f.corp.sign(humanClaims(f.clock.now(), { groups: 'sre' }));
      const err = await expectRefused(f.verifier().verify(token), 'TOKEN_CLAIM_INVALID', token);
      expect(err.details).toMatchObject({ claim: 'groups' });
    });

    it('refuses a token without a subject or without exp', async () => {
      const noSub = await f.corp.sign(humanClaims(f.clock.now(), { sub: undefined }));
      expect(
        (await expectRefused(f.verifier().verify(noSub), 'TOKEN_CLAIM_INVALID')).details,
      ).toMatchObject({ claim: 'sub' });
      const noExp = await f.corp.sign(humanClaims(f.clock.now(), { exp: undefined }));
      expect(
        (await expectRefused(f.verifier().verify(noExp), 'TOKEN_CLAIM_INVALID')).details,
      ).toMatchObject({ claim: 'exp' });
    });
  });

  describe('when a workload presents its platform token', () => {
    it('verifies a GitHub Actions token as a workload executor', async () => {
      const token = await f.github.mintGithubActions(f.clock.now(), AUDIENCE);
      const id = await f.verifier().verify(token);
      expect(id).toMatchObject({
        kind: 'workload',
        issuerKind: 'github_actions',
        issuerName: 'gha',
        subject: 'repo:acme/deploy:environment:prod',
        groups: [],
        roles: ['executor'],
        authTime: null,
      });
      expect(id.claims['repository']).toBe('acme/deploy');
      expect(id.jti).toEqual(expect.any(String));
    });

    it("refuses a GitHub Actions token of a repository outside the issuer's bound owner", async () => {
      const token = await f.github.mintGithubActions(f.clock.now(), AUDIENCE, {
        repository: 'mallory/deploy',
      });
      const err = await expectRefused(f.verifier().verify(token), 'TOKEN_CLAIM_INVALID', token);
      expect(err.details).toMatchObject({ claim: 'repository_owner' });
    });

    it('verifies a Kubernetes service-account token through its pinned jwksUri', async () => {
      const before = f.k8s.discoveryFetches;
      const id = await f.verifier().verify(await f.k8s.mintKubernetes(f.clock.now(), AUDIENCE));
      expect(id).toMatchObject({
        kind: 'workload',
        issuerKind: 'kubernetes',
        subject: 'system:serviceaccount:payments:deployer',
        roles: ['executor', 'observer'],
      });
      expect(f.k8s.discoveryFetches).toBe(before);
    });

    it('verifies a SPIFFE JWT-SVID', async () => {
      const svid = 'spiffe://prod.acme/ns/payments/sa/deployer';
      const id = await f
        .verifier()
        .verify(await f.spiffe.mintSpiffe(f.clock.now(), AUDIENCE, svid));
      expect(id).toMatchObject({ kind: 'workload', issuerKind: 'spiffe', subject: svid });
    });
  });

  describe('when an issuer requires a typ header', () => {
    it('refuses tokens without it', async () => {
      const v = f.soleVerifier('typed', f.spiffe, 'spiffe', 'ES256', { typ: 'JWT' });
      const claims = { ...timeClaims(f.clock.now()), aud: AUDIENCE, sub: 'spiffe://x/y' };
      const untyped = await f.spiffe.sign(claims, { alg: 'ES256' });
      const err = await expectRefused(v.verify(untyped), 'TOKEN_CLAIM_INVALID', untyped);
      expect(err.details).toMatchObject({ claim: 'typ' });
      await expect(
        v.verify(await f.spiffe.sign(claims, { alg: 'ES256', typ: 'JWT' })),
      ).resolves.toBeDefined();
    });
  });
});
