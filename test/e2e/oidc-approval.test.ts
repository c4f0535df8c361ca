import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest } from '../helpers/chain.js';
import { rowCounts } from '../helpers/db.js';
import { FederatedServer, humanClaims, tokenDigest } from '../helpers/federated.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

let f: FederatedServer;
let s: TestServer;
serveDuringSuite(FederatedServer, (started) => {
  f = started;
  s = started.server;
});
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-oidc-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const epoch = () => Math.floor(Date.now() / 1000);

/** An ID token of corp-sso for `sub`, signed in `authAge` seconds ago (groups sre, platform). */
const idToken = (claims: Record<string, unknown> = {}, authAge = 60) =>
  f.corp.sign(humanClaims(new Date(), claims, authAge));

describe('approving with an OIDC ID token', () => {
  describe('when a person signed in recently approves through the CLI', () => {
    let requestId: string;
    let claims: Record<string, unknown>;
    beforeAll(async () => {
      requestId = await createRequest(s, { env: 'staging' });
      claims = humanClaims(new Date(), { sub: 'dana' }, 120);
      const token = await f.corp.sign(claims);
      const out = await s.cli(['approve', requestId, '--reason', 'reviewed'], { bearer: token });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toMatch(/approved: warrant wrt_\S+ issued/);
    });

    it('stores the decision with the proof of who approved', async () => {
      const r = await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' });
      expect(r.body.state).toBe('approved');
      expect(r.body.decisions).toHaveLength(1);
      expect(r.body.decisions[0]).toMatchObject({
        approver: 'corp-sso:dana',
        decision: 'approve',
        approverIdentity: {
          via: 'oidc',
          issuer: f.corp.issuer,
          subject: 'dana',
          auth_time: claims.auth_time,
          token_digest: tokenDigest(claims.jti as string),
        },
      });
    });

    it('records issuer, subject, auth_time and token digest in the signed evidence', async () => {
      const file = join(dir, 'bundle.json');
      const exported = await s.cli(['evidence', 'export', requestId, '-o', file], 'audra');
      expect(exported.code, exported.stderr).toBe(0);
      const leaves = JSON.parse(readFileSync(file, 'utf8')).entries.map((e: { leaf: string }) =>
        JSON.parse(e.leaf),
      );
      const approved = leaves.find((l: { type: string }) => l.type === 'decision.approved');
      expect(approved.actor).toBe('corp-sso:dana');
      expect(approved.data.decision.approverIdentity).toEqual({
        via: 'oidc',
        issuer: f.corp.issuer,
        subject: 'dana',
        auth_time: claims.auth_time,
        token_digest: tokenDigest(claims.jti as string),
      });
      const verified = await s.cli(['evidence', 'verify', file, '--trust-embedded']);
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toContain('approved by corp-sso:dana');
      expect(verified.stdout).toContain(`signed in via ${f.corp.issuer} as dana`);
    });
  });

  describe('when the token has no jti', () => {
    it('records the digest of the token itself', async () => {
      const requestId = await createRequest(s, { env: 'staging' });
      const token = await idToken({ sub: 'erin', jti: undefined });
      const r = await s.http('POST', `/v1/requests/${requestId}/decisions`, {
        bearer: token,
        body: { decision: 'approve' },
      });
      expect(r.status, r.text).toBe(201);
      expect(r.body.decision.approverIdentity.token_digest).toBe(tokenDigest(token));
    });
  });

  describe('when the sign-in is older than the approval window', () => {
    it('refuses with AUTH_TOO_OLD and a step-up challenge, and writes nothing', async () => {
      const requestId = await createRequest(s, { env: 'staging' });
      const before = rowCounts(s.dataDir);
      for (const token of [
        await idToken({ sub: 'frank' }, 3600),
        await idToken({ sub: 'frank', auth_time: undefined }),
        await idToken({ sub: 'frank', auth_time: epoch() + 600 }),
      ]) {
        const r = await s.http('POST', `/v1/requests/${requestId}/decisions`, {
          bearer: token,
          body: { decision: 'approve' },
        });
        expect(r.status).toBe(401);
        expect(r.body).toMatchObject({ code: 'AUTH_TOO_OLD', claim: 'auth_time', maxAge: 600 });
        expect(r.headers.get('www-authenticate')).toBe(
          'Bearer error="insufficient_user_authentication", ' +
            'error_description="a more recent sign-in is required", max_age=600',
        );
      }
      expect(rowCounts(s.dataDir)).toEqual(before);
      const out = await s.cli(['approve', requestId], { bearer: await idToken({}, 3600) });
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('AUTH_TOO_OLD');
    });
  });

  describe('when the person is the requester', () => {
    it('applies separation of duties to the federated principal', async () => {
      const token = await idToken({ sub: 'gina' });
      const requestId = await createRequest(s, { env: 'staging', bearer: token });
      const r = await s.http('POST', `/v1/requests/${requestId}/decisions`, {
        bearer: token,
        body: { decision: 'approve' },
      });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('SEPARATION_OF_DUTIES');
    });
  });

  describe('when the person is in no group that grants approval', () => {
    it('is forbidden by role', async () => {
      const requestId = await createRequest(s, { env: 'staging' });
      const token = await idToken({ sub: 'hal', groups: ['platform'] });
      const r = await s.http('POST', `/v1/requests/${requestId}/decisions`, {
        bearer: token,
        body: { decision: 'approve' },
      });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('FORBIDDEN');
    });
  });
});
