import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { TokenVerifier, TokenVerifierOptions } from '../../src/identity/oidc/verifier.js';
import { TestIssuer, type TestIssuerOptions } from '../helpers/oidc-issuer.js';
import { expectRefused, humanClaims, useFederation } from '../helpers/federation.js';

const f = useFederation();
const extra: TestIssuer[] = [];
afterAll(async () => {
  await Promise.all(extra.map((i) => i.close()));
});

/** A fresh loopback issuer, closed after the file. */
async function issuerFor(opts: TestIssuerOptions = {}): Promise<TestIssuer> {
  const issuer = await TestIssuer.start(opts);
  extra.push(issuer);
  return issuer;
}

/** A verifier trusting only `issuer`, as a human issuer found through discovery. */
function soleVerifier(
  issuer: TestIssuer,
  name: string,
  options: Partial<TokenVerifierOptions> = {},
): TokenVerifier {
  return f.soleVerifier(name, issuer, 'human', 'RS256', {}, options);
}

const token = (issuer: TestIssuer, kid?: string) =>
  issuer.sign(humanClaims(f.clock.now()), kid === undefined ? {} : { kid });

describe('TokenVerifier key discovery', () => {
  describe('when the issuer must be discovered', () => {
    it('fetches the discovery document once and reuses it', async () => {
      const issuer = await issuerFor({ path: '/tenant' });
      const v = soleVerifier(issuer, 'x');
      for (let i = 0; i < 3; i++) await v.verify(await token(issuer));
      expect(issuer.discoveryFetches).toBe(1);
      expect(issuer.jwksFetches).toBe(1);
    });

    it('refuses a discovery document that names a different issuer, and retries only later', async () => {
      const issuer = await issuerFor();
      issuer.discoveryIssuer = `${issuer.issuer}/`;
      const v = soleVerifier(issuer, 'liar', { discoveryRetryMs: 30_000 });
      const t = await token(issuer);
      const err = await expectRefused(v.verify(t), 'ISSUER_DISCOVERY_FAILED', t);
      expect(err.details).toMatchObject({ issuerName: 'liar', reason: 'issuer_mismatch' });
      await expectRefused(v.verify(t), 'ISSUER_DISCOVERY_FAILED');
      expect(issuer.discoveryFetches).toBe(1);
      expect(issuer.jwksFetches).toBe(0);

      issuer.discoveryIssuer = issuer.issuer;
      f.clock.advance(31_000);
      await expect(v.verify(await token(issuer))).resolves.toMatchObject({ issuerName: 'liar' });
      expect(issuer.discoveryFetches).toBe(2);
    });

    it('reports JWKS_UNAVAILABLE when the key set cannot be fetched', async () => {
      const jwksUri = `${f.corp.issuer}/no-such-jwks`;
      const v = f.soleVerifier('broken', f.corp, 'human', 'RS256', { jwksUri });
      const t = await token(f.corp);
      await expectRefused(v.verify(t), 'JWKS_UNAVAILABLE', t);
    });
  });

  describe('when the issuer rotates its keys', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('verifies a token from a newly rotated key after jose refetches the key set', async () => {
      const issuer = await issuerFor();
      const v = soleVerifier(issuer, 'rot', { jwksCooldownMs: 0 });
      await v.verify(await token(issuer));
      expect(issuer.jwksFetches).toBe(1);
      const oldKid = issuer.currentKid();
      const newKid = await issuer.rotate();
      await expect(v.verify(await token(issuer, newKid))).resolves.toMatchObject({
        subject: 'alice',
      });
      expect(issuer.jwksFetches).toBe(2);
      // The old key is still published, and cached: it keeps verifying without a fetch.
      await v.verify(await token(issuer, oldKid));
      expect(issuer.jwksFetches).toBe(2);
    });

    it('waits out the cooldown before refetching for an unknown kid', async () => {
      // jose measures its cooldown with Date.now(); only Date is faked, sockets stay real.
      vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-03-01T12:00:00Z') });
      const issuer = await issuerFor();
      const v = soleVerifier(issuer, 'rot');
      await v.verify(await token(issuer));
      const t = await token(issuer, await issuer.rotate());
      await expectRefused(v.verify(t), 'TOKEN_KEY_UNKNOWN', t);
      expect(issuer.jwksFetches).toBe(1);
      vi.setSystemTime(new Date('2026-03-01T12:00:31Z'));
      await expect(v.verify(t)).resolves.toMatchObject({ subject: 'alice' });
      expect(issuer.jwksFetches).toBe(2);
    });

    it('stops accepting a retired key once the cached key set expires', async () => {
      const issuer = await issuerFor();
      const v = soleVerifier(issuer, 'rot', { jwksCacheMaxAgeMs: 0 });
      const oldKid = issuer.currentKid();
      await v.verify(await token(issuer));
      await issuer.rotate();
      issuer.retire(oldKid);
      // The helper no longer holds that key, so it signs with the current key under the
      // old kid: the point is that the old kid no longer resolves.
      const t = await token(issuer, oldKid);
      await expectRefused(v.verify(t), 'TOKEN_KEY_UNKNOWN', t);
    });
  });
});
