import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRequest } from '../helpers/chain.js';
import { redeemArgs, requestCreateArgs } from '../helpers/cli-args.js';
import { query, rowCounts } from '../helpers/db.js';
import { AUDIENCE, FederatedServer, tokenDigest } from '../helpers/federated.js';
import { githubBoundWarrant } from '../helpers/github-warrant.js';
import type { GithubJob } from '../helpers/oidc-issuer.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

let f: FederatedServer;
let s: TestServer;
serveDuringSuite(FederatedServer, (started) => {
  f = started;
  s = started.server;
});

const JOB_ID = 'gha:repo:acme/deploy:environment:prod';
/** db/orders read in prod, what the bound warrants grant. */
const ACTION = { env: 'prod' };

/** A GitHub-Actions-style OIDC token of a job (default: acme/deploy, environment prod). */
const jobToken = (job: GithubJob = {}) => f.github.mintGithubActions(new Date(), AUDIENCE, job);

const redeem = async (warrant: string, bearer: string) =>
  s.cli(redeemArgs(warrant, ACTION), { bearer });

const boundWarrant = async (maxUses = 3) => {
  const { requestId, warrant } = await githubBoundWarrant(f, { maxUses });
  return { requestId, token: warrant };
};

describe('redeeming with a GitHub Actions workload token', () => {
  describe('when the job matches the claim binding', () => {
    let requestId: string;
    let receipt: Record<string, unknown>;
    let token: string;
    beforeAll(async () => {
      const w = await boundWarrant();
      requestId = w.requestId;
      token = await jobToken();
      const out = await redeem(w.token, token);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('allowed: use 1 of 3');
      receipt = decodeJwt(out.stdout.trim().split('\n').at(-1)!);
    });

    it('signs the binding into the warrant', async () => {
      const view = await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' });
      expect(view.body.body.executor).toEqual({
        kind: 'claims',
        matcher: {
          issuer: f.github.issuer,
          claims: {
            environment: 'prod',
            ref: { pattern: 'refs/heads/*' },
            repository: 'acme/deploy',
          },
        },
      });
    });

    it('shows the binding to approvers in `request show`', async () => {
      const out = await s.cli(['request', 'show', requestId], 'bob');
      expect(out.code, out.stderr).toBe(0);
      const at = out.stdout.indexOf('executor ');
      expect(out.stdout.slice(at).split('\n').slice(0, 4)).toEqual([
        `executor       a workload token from ${f.github.issuer} whose claims match all of:`,
        '                 environment  = prod',
        '                 ref          ~= refs/heads/* (glob)',
        '                 repository   = acme/deploy',
      ]);
    });

    it('names the workload identity in the receipt', () => {
      expect(receipt.executor).toBe(JOB_ID);
      expect(receipt.executor_identity).toEqual({
        via: 'oidc',
        issuer: f.github.issuer,
        subject: 'repo:acme/deploy:environment:prod',
        auth_time: null,
        token_digest: tokenDigest(decodeJwt(token).jti!),
      });
    });

    it('records the identity in the redemption event', () => {
      const [row] = query<{ leaf: string }>(
        s.dataDir,
        "select leaf from events where type = 'redemption.allowed' and request_id = ?",
        requestId,
      );
      expect(JSON.parse(row!.leaf).data.receipt.executor_identity).toEqual(
        receipt.executor_identity,
      );
    });

    it('refuses the same token replayed with TOKEN_REPLAYED, writing nothing', async () => {
      const { token: warrant } = await boundWarrant();
      const before = rowCounts(s.dataDir);
      const r = await s.http('POST', '/v1/redemptions', {
        bearer: token,
        body: {
          warrant,
          action: { resource: 'db/orders', permission: 'read', environment: 'prod' },
        },
      });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'TOKEN_REPLAYED', claim: 'jti' });
      expect(r.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
      expect(rowCounts(s.dataDir)).toEqual(before);
    });
  });

  describe('when the token belongs to another job', () => {
    let warrant: string;
    let requestId: string;
    beforeAll(async () => {
      ({ token: warrant, requestId } = await boundWarrant());
    });

    it.each([
      ['another repository', { repository: 'acme/other' }],
      ['another environment', { environment: 'staging' }],
      ['a tag instead of a branch', { ref: 'refs/tags/v1.2.3' }],
    ])('refuses %s with EXECUTOR_MISMATCH and records the denial', async (_n, job) => {
      const token = await jobToken(job);
      const out = await redeem(warrant, token);
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('EXECUTOR_MISMATCH');
      const denied = query<{ leaf: string }>(
        s.dataDir,
        "select leaf from events where type = 'redemption.denied' and request_id = ?",
        requestId,
      ).map((r) => JSON.parse(r.leaf).data);
      expect(denied.at(-1)).toMatchObject({
        code: 'EXECUTOR_MISMATCH',
        executor_identity: { via: 'oidc', token_digest: tokenDigest(decodeJwt(token).jti!) },
      });
    });

    it('refuses an API-token executor with EXECUTOR_MISMATCH', async () => {
      const out = await s.cli(redeemArgs(warrant, ACTION), 'deploy-eu');
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('EXECUTOR_MISMATCH');
    });

    it('still redeems for the right job afterwards', async () => {
      const out = await redeem(warrant, await jobToken());
      expect(out.code, out.stderr).toBe(0);
      expect(decodeProtectedHeader(out.stdout.trim().split('\n').at(-1)!).typ).toBe('receipt+jwt');
    });
  });

  describe('when a job of a repository outside the bound owner presents its token', () => {
    it('is no workload here: refused before any read, redemption or log entry', async () => {
      const { token: warrant, requestId } = await boundWarrant();
      const before = rowCounts(s.dataDir);
      const stranger = await jobToken({ repository: 'mallory/whatever' });
      for (const path of ['/v1/requests', `/v1/requests/${requestId}/warrant`]) {
        const r = await s.http('GET', path, { bearer: stranger });
        expect([r.status, r.body.code]).toEqual([401, 'TOKEN_CLAIM_INVALID']);
        expect(r.body.detail).toContain('repository_owner');
      }
      const out = await redeem(warrant, await jobToken({ repository: 'mallory/whatever' }));
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain('TOKEN_CLAIM_INVALID');
      expect(rowCounts(s.dataDir)).toEqual(before);
    });
  });

  describe("when another job of the same repository and environment holds the first job's receipt", () => {
    // A tag build has the same subject, so the same principal id, as a branch build; only
    // the binding (ref refs/heads/*) tells them apart.
    const tagJob = { ref: 'refs/tags/v1.2.3' };
    const redeemAs = async (bearer: string, warrant: string) =>
      s.http('POST', '/v1/redemptions', {
        bearer,
        body: {
          warrant,
          action: { resource: 'db/orders', permission: 'read', environment: 'prod' },
          idempotencyKey: 'run-42',
        },
      });
    const fulfil = async (bearer: string, receipt: string) =>
      s.http('POST', '/v1/fulfilments', {
        bearer,
        body: {
          receipt,
          target: 'default',
          outcome: 'success',
          fingerprint: `sha256:${'c'.repeat(64)}`,
        },
      });

    it("refuses it the first job's idempotent retry and its fulfilment, and lets the first job report", async () => {
      const { token: warrant } = await boundWarrant();
      const first = await redeemAs(await jobToken(), warrant);
      expect(first.status, first.text).toBe(200);
      const receipt = (first.body as { receipt: string }).receipt;
      const retried = await redeemAs(await jobToken(tagJob), warrant);
      expect([retried.status, retried.body.code]).toEqual([403, 'EXECUTOR_MISMATCH']);
      const stolen = await fulfil(await jobToken(tagJob), receipt);
      expect([stolen.status, stolen.body.code]).toEqual([403, 'RECEIPT_NOT_YOURS']);
      expect((await fulfil(await jobToken(), receipt)).status).toBe(201);
    });
  });

  describe('when a job sends a redemption whose body cannot be read', () => {
    let warrant: string;
    let requestId: string;
    let token: string;
    const action = { resource: 'db/orders', permission: 'read', environment: 'prod' };
    beforeAll(async () => {
      ({ token: warrant, requestId } = await boundWarrant());
      token = await jobToken();
      const r = await s.http('POST', '/v1/redemptions', {
        bearer: token,
        body: { warrant, action: { ...action, resource: 'db/orders\ud800' } },
      });
      expect(r.status, r.text).toBe(400);
      expect(r.body.code).toBe('LONE_SURROGATE');
    });

    it('records a REDEMPTION_MALFORMED denial naming the workload identity', () => {
      const denied = query<{ leaf: string }>(
        s.dataDir,
        "select leaf from events where type = 'redemption.denied' and request_id = ?",
        requestId,
      ).map((r) => JSON.parse(r.leaf).data);
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({
        code: 'REDEMPTION_MALFORMED',
        problem: 'LONE_SURROGATE',
        executor_identity: { via: 'oidc', token_digest: tokenDigest(decodeJwt(token).jti!) },
      });
    });

    it('spends the token, as any redemption does: it cannot then redeem', async () => {
      const before = rowCounts(s.dataDir);
      const r = await s.http('POST', '/v1/redemptions', {
        bearer: token,
        body: { warrant, action },
      });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('TOKEN_REPLAYED');
      expect(rowCounts(s.dataDir)).toEqual(before);
    });

    it('refuses a spent token sending another unreadable body with TOKEN_REPLAYED, writing nothing', async () => {
      const before = rowCounts(s.dataDir);
      const r = await s.http('POST', '/v1/redemptions', { bearer: token, raw: '{"warrant":' });
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('TOKEN_REPLAYED');
      expect(rowCounts(s.dataDir)).toEqual(before);
    });

    it('redeems with a fresh token of the same job', async () => {
      const out = await redeem(warrant, await jobToken());
      expect(out.code, out.stderr).toBe(0);
    });
  });

  describe('when a glob in the binding has many stars', () => {
    it('refuses a ref that almost matches at once, and keeps serving', async () => {
      const { warrant } = await githubBoundWarrant(f, { ref: 'refs/heads/*-*-*-*-*' });
      const ref = `refs/heads/${'-'.repeat(230)}/`;
      const [out, health] = await Promise.all([
        redeem(warrant, await jobToken({ ref })),
        s.http('GET', '/healthz'),
      ]);
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('EXECUTOR_MISMATCH');
      expect(health.status).toBe(200);
      expect((await redeem(warrant, await jobToken({ ref: 'refs/heads/a-b-c-d-e' }))).code).toBe(0);
    });
  });

  describe('when a request names a binding no workload could satisfy safely', () => {
    it.each([
      ['an untrusted issuer', { issuer: 'https://token.example', claims: { repository: 'a/b' } }],
      ['a human issuer', () => ({ issuer: f.corp.issuer, claims: { sub: 'alice' } })],
      ['no repository', () => ({ issuer: f.github.issuer, claims: { environment: 'prod' } })],
      [
        'a repository glob that names no owner',
        () => ({
          issuer: f.github.issuer,
          claims: { repository: { pattern: '**' }, environment: 'prod' },
        }),
      ],
    ])('refuses %s with EXECUTOR_BINDING_INVALID', async (_n, binding) => {
      const executorBinding = typeof binding === 'function' ? binding() : binding;
      await expect(createRequest(s, { executorBinding })).rejects.toThrow(
        /EXECUTOR_BINDING_INVALID/,
      );
    });

    it('refuses a matcher without claims as a validation error', async () => {
      await expect(
        createRequest(s, { executorBinding: { issuer: f.github.issuer, claims: {} } }),
      ).rejects.toThrow(/VALIDATION_FAILED/);
    });

    it('makes the CLI insist on one kind of binding', async () => {
      const both = { 'executor-issuer': f.github.issuer, 'executor-claim': 'repository=a/b' };
      const out = await s.cli(
        requestCreateArgs('x:y', { scope: 'a=b', env: 'prod', reason: 'r', ...both }),
        'alice',
      );
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('not both');
    });
  });
});
