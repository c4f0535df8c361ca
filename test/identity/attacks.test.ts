import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireRecentAuth } from '../../src/identity/oidc/authenticator.js';
import { MemoryReplayGuard, consumeToken } from '../../src/identity/oidc/replay.js';
import type { TokenVerifier } from '../../src/identity/oidc/verifier.js';
import type { TestIssuer } from '../helpers/oidc-issuer.js';
import { craftHmac, craftUnsigned, githubActionsClaims } from '../helpers/oidc-issuer.js';
import {
  AUDIENCE,
  expectRefused,
  humanClaims,
  startIssuers,
  useFederation,
  type Issuers,
} from '../helpers/federation.js';

const f = useFederation();
/** Issuers nobody trusts, minting kids that collide with the trusted issuers' kids. */
let impostors: Issuers<'corp' | 'github'>;
beforeAll(async () => {
  impostors = await startIssuers(['corp', 'github']);
});
afterAll(async () => {
  await impostors.close();
});

interface Subject {
  readonly name: string;
  issuer(): TestIssuer;
  impostor(): TestIssuer;
  claims(now: Date, overrides?: Record<string, unknown>): Record<string, unknown>;
}

const SUBJECTS: readonly Subject[] = [
  {
    name: 'a human ID token',
    issuer: () => f.corp,
    impostor: () => impostors.corp,
    claims: (now, overrides = {}) => ({ iss: f.corp.issuer, ...humanClaims(now), ...overrides }),
  },
  {
    name: 'a GitHub Actions workload token',
    issuer: () => f.github,
    impostor: () => impostors.github,
    claims: (now, overrides = {}) => ({
      iss: f.github.issuer,
      ...githubActionsClaims(now, AUDIENCE),
      ...overrides,
    }),
  },
];

for (const s of SUBJECTS) {
  describe(`the JWT attack suite against ${s.name}`, () => {
    let v: TokenVerifier;
    const now = () => f.clock.now();
    const secs = () => Math.floor(now().getTime() / 1000);
    beforeAll(() => {
      v = f.verifier();
    });

    it('accepts the honest token the attacks start from', async () => {
      await expect(v.verify(await s.issuer().sign(s.claims(now())))).resolves.toBeDefined();
    });

    it('refuses alg none, in any spelling, before fetching any key', async () => {
      const before = s.issuer().jwksFetches;
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        const token = craftUnsigned({ alg, typ: 'JWT' }, s.claims(now()));
        await expectRefused(v.verify(token), 'TOKEN_ALG_REJECTED', token);
      }
      expect(s.issuer().jwksFetches).toBe(before);
    });

    it('refuses HS256 MAC-ed with the issuer public key (key confusion)', async () => {
      const kid = s.issuer().currentKid('RS256');
      const pem = await s.issuer().publicPem(kid);
      const jwk = JSON.stringify(s.issuer().publicJwk(kid));
      for (const secret of [pem, Buffer.from(pem), jwk]) {
        for (const alg of ['HS256', 'HS384', 'HS512']) {
          const token = craftHmac({ alg, kid, typ: 'JWT' }, s.claims(now()), secret);
          await expectRefused(v.verify(token), 'TOKEN_ALG_REJECTED', token);
        }
      }
    });

    it('refuses a token whose iss is not a trusted issuer, compared exactly', async () => {
      for (const iss of [
        'https://evil.example',
        `${s.issuer().issuer}/`,
        s.issuer().issuer.toUpperCase(),
      ]) {
        const token = await s.issuer().sign(s.claims(now(), { iss }));
        await expectRefused(v.verify(token), 'TOKEN_ISSUER_UNTRUSTED', token);
      }
      const none = await s.issuer().sign(s.claims(now(), { iss: undefined }));
      await expectRefused(v.verify(none), 'TOKEN_ISSUER_INVALID', none);
    });

    it('refuses a token signed by this issuer but claiming another trusted issuer', async () => {
      const other = s.issuer() === f.corp ? f.spiffe : f.corp;
      const token = await s.issuer().sign(s.claims(now(), { iss: other.issuer }), { alg: 'ES256' });
      // The kid is not in the claimed issuer's key set, so no key is found.
      await expectRefused(v.verify(token), 'TOKEN_KEY_UNKNOWN', token);
    });

    it('refuses a token for another audience, or for none', async () => {
      for (const aud of ['someone-else', ['a', 'b'], undefined]) {
        const token = await s.issuer().sign(s.claims(now(), { aud }));
        const err = await expectRefused(v.verify(token), 'TOKEN_AUDIENCE_INVALID', token);
        expect(err.details).toMatchObject({ claim: 'aud' });
      }
    });

    it('refuses an expired token', async () => {
      const token = await s
        .issuer()
        .sign(s.claims(now(), { iat: secs() - 900, nbf: secs() - 900, exp: secs() - 120 }));
      const err = await expectRefused(v.verify(token), 'TOKEN_EXPIRED', token);
      expect(err.details).toMatchObject({ claim: 'exp' });
    });

    it('refuses a token whose nbf lies in the future', async () => {
      const token = await s
        .issuer()
        .sign(s.claims(now(), { nbf: secs() + 600, exp: secs() + 900 }));
      const err = await expectRefused(v.verify(token), 'TOKEN_NOT_YET_VALID', token);
      expect(err.details).toMatchObject({ claim: 'nbf' });
    });

    it('refuses a kid the issuer does not publish', async () => {
      const token = await s.issuer().sign(s.claims(now()), { kid: 'ghost-kid' });
      await expectRefused(v.verify(token), 'TOKEN_KEY_UNKNOWN', token);
    });

    it('refuses an algorithm outside the issuer allow-list', async () => {
      if (s.issuer() !== f.github) return; // corp allows both test algorithms
      const token = await s.issuer().sign(s.claims(now()), { alg: 'ES256' });
      await expectRefused(v.verify(token), 'TOKEN_ALG_REJECTED', token);
    });

    it('refuses a tampered payload', async () => {
      const [h, , sig] = (await s.issuer().sign(s.claims(now()))).split('.');
      const forged = (await s.issuer().sign(s.claims(now(), { sub: 'mallory' }))).split('.')[1];
      const token = `${h}.${forged}.${sig}`;
      await expectRefused(v.verify(token), 'TOKEN_SIGNATURE_INVALID', token);
    });

    it('refuses an untrusted issuer that reuses a trusted kid', async () => {
      const evil = s.impostor();
      const kid = s.issuer().currentKid('RS256');
      expect(evil.currentKid('RS256')).toBe(kid);
      const own = await evil.sign(s.claims(now(), { iss: evil.issuer }), { kid });
      await expectRefused(v.verify(own), 'TOKEN_ISSUER_UNTRUSTED', own);
      const posing = await evil.sign(s.claims(now()), { kid });
      await expectRefused(v.verify(posing), 'TOKEN_SIGNATURE_INVALID', posing);
    });

    it('ignores keys the token brings along (jwk, jku, x5u headers)', async () => {
      const evil = s.impostor();
      const kid = s.issuer().currentKid('RS256');
      const before = evil.jwksFetches;
      const header = { jwk: evil.publicJwk(kid), jku: evil.jwksUri, x5u: `${evil.issuer}/x5u` };
      const token = await evil.sign(s.claims(now()), { kid, header });
      await expectRefused(v.verify(token), 'TOKEN_SIGNATURE_INVALID', token);
      expect(evil.jwksFetches).toBe(before);
    });

    it('refuses a stale (or missing) auth_time for an approval', async () => {
      const stale = await v.verify(
        await s.issuer().sign(s.claims(now(), { auth_time: secs() - 3600 })),
      );
      expect(() => requireRecentAuth(stale, now(), f.config.approvalAuthMaxAgeSeconds)).toThrow(
        expect.objectContaining({ code: 'AUTH_TOO_OLD' }),
      );
      const none = await v.verify(await s.issuer().sign(s.claims(now(), { auth_time: undefined })));
      expect(() => requireRecentAuth(none, now(), 600)).toThrow(
        expect.objectContaining({ code: 'AUTH_TOO_OLD' }),
      );
    });

    it('refuses a replayed token (same jti twice)', async () => {
      const guard = new MemoryReplayGuard({ clock: f.clock });
      const token = await s.issuer().sign(s.claims(now()));
      await consumeToken(guard, await v.verify(token));
      await expectRefused(consumeToken(guard, await v.verify(token)), 'TOKEN_REPLAYED', token);
      const sameJti = await s.issuer().sign(s.claims(now(), { jti: (await v.verify(token)).jti! }));
      await expectRefused(consumeToken(guard, await v.verify(sameJti)), 'TOKEN_REPLAYED', sameJti);
    });

    it('refuses garbage before looking up any issuer', async () => {
      for (const token of [
        '',
        'a.b',
        'a.b.c.d.e',
        '!!!.???.***',
        'eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln',
        'x'.repeat(20_000),
      ]) {
        await expectRefused(v.verify(token), 'TOKEN_MALFORMED');
      }
    });
  });
}
