import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, issueWarrant } from '../helpers/chain.js';
import { rowCounts } from '../helpers/db.js';
import { AUDIENCE, FederatedServer, humanClaims } from '../helpers/federated.js';
import { startIssuers, type Issuers } from '../helpers/federation.js';
import type { TestIssuer } from '../helpers/oidc-issuer.js';
import { craftHmac, craftUnsigned, githubActionsClaims } from '../helpers/oidc-issuer.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

let f: FederatedServer;
let s: TestServer;
serveDuringSuite(FederatedServer, (started) => {
  f = started;
  s = started.server;
});
/** Untrusted issuers whose generated kids collide with the trusted issuers' kids. */
let impostors: Issuers<'corp' | 'github'>;
beforeAll(async () => {
  impostors = await startIssuers(['corp', 'github']);
});
afterAll(async () => {
  await impostors.close();
});

const secs = () => Math.floor(Date.now() / 1000);

interface Target {
  readonly name: string;
  issuer(): TestIssuer;
  impostor(): TestIssuer;
  claims(over?: Record<string, unknown>): Record<string, unknown>;
  /** Sends the token to the endpoint this kind of caller uses. */
  send(token: string): ReturnType<TestServer['http']>;
}

let requestId: string;
let warrant: string;
beforeAll(async () => {
  requestId = await createRequest(s, { env: 'staging' });
  warrant = (await issueWarrant(s, { env: 'staging' })).token;
});

const TARGETS: readonly Target[] = [
  {
    name: "a person's ID token approving a request",
    issuer: () => f.corp,
    impostor: () => impostors.corp,
    claims: (over = {}) => ({ iss: f.corp.issuer, ...humanClaims(new Date()), ...over }),
    send: (token) =>
      s.http('POST', `/v1/requests/${requestId}/decisions`, {
        bearer: token,
        body: { decision: 'approve' },
      }),
  },
  {
    name: "a workload's token redeeming a warrant",
    issuer: () => f.github,
    impostor: () => impostors.github,
    claims: (over = {}) => ({
      iss: f.github.issuer,
      ...githubActionsClaims(new Date(), AUDIENCE),
      ...over,
    }),
    send: (token) =>
      s.http('POST', '/v1/redemptions', {
        bearer: token,
        body: {
          warrant,
          action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
        },
      }),
  },
];

for (const t of TARGETS) {
  describe(`the JWT attack suite over HTTP: ${t.name}`, () => {
    const attacks: ReadonlyArray<readonly [string, string, () => Promise<string>]> = [
      ['alg none', 'TOKEN_ALG_REJECTED', async () => craftUnsigned({ alg: 'none' }, t.claims())],
      [
        'HS256 MAC-ed with the issuer public key',
        'TOKEN_ALG_REJECTED',
        async () => {
          const kid = t.issuer().currentKid('RS256');
          return craftHmac({ alg: 'HS256', kid }, t.claims(), await t.issuer().publicPem(kid));
        },
      ],
      [
        'a wrong iss',
        'TOKEN_ISSUER_UNTRUSTED',
        () => t.issuer().sign(t.claims({ iss: 'https://evil.example' })),
      ],
      ['a wrong aud', 'TOKEN_AUDIENCE_INVALID', () => t.issuer().sign(t.claims({ aud: 'other' }))],
      [
        'an expired token',
        'TOKEN_EXPIRED',
        () =>
          t.issuer().sign(t.claims({ iat: secs() - 900, nbf: secs() - 900, exp: secs() - 120 })),
      ],
      [
        'nbf in the future',
        'TOKEN_NOT_YET_VALID',
        () => t.issuer().sign(t.claims({ nbf: secs() + 600, exp: secs() + 900 })),
      ],
      ['an unknown kid', 'TOKEN_KEY_UNKNOWN', () => t.issuer().sign(t.claims(), { kid: 'ghost' })],
      [
        'an untrusted issuer reusing a trusted kid',
        'TOKEN_ISSUER_UNTRUSTED',
        () =>
          t
            .impostor()
            .sign(t.claims({ iss: t.impostor().issuer }), { kid: t.issuer().currentKid() }),
      ],
      [
        'an untrusted issuer posing as the trusted one with its kid',
        'TOKEN_SIGNATURE_INVALID',
        () => t.impostor().sign(t.claims(), { kid: t.issuer().currentKid() }),
      ],
    ];

    it('authenticates the honest token the attacks start from', async () => {
      const r = await t.send(await t.issuer().sign(t.claims()));
      // Past authentication and authorization: approved, or refused by the warrant check.
      expect(r.status, r.text).not.toBe(401);
      expect(r.body.code).not.toBe('FORBIDDEN');
    });

    it.each(attacks)('refuses %s with %s and writes nothing', async (_name, code, mint) => {
      const token = await mint();
      const before = rowCounts(s.dataDir);
      const r = await t.send(token);
      expect(r.status, r.text).toBe(401);
      expect(r.body.code).toBe(code);
      expect(r.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      for (const part of token.split('.')) {
        if (part.length >= 16) expect(r.text).not.toContain(part);
      }
      expect(rowCounts(s.dataDir)).toEqual(before);
    });
  });
}
