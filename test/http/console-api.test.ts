import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestIdOf } from '../../src/request/build.js';
import type { RequestBody } from '../../src/request/request.js';
import { createRequest, uniqueNhi } from '../helpers/chain.js';
import { ConsoleServer } from '../helpers/console.js';
import { rowCounts } from '../helpers/db.js';
import type { DevPrincipal } from '../helpers/server.js';

let s: ConsoleServer;
beforeAll(async () => {
  s = await ConsoleServer.start();
});
afterAll(async () => {
  await s?.stop();
});

const approve = (as: DevPrincipal, id: string) =>
  s.http('POST', `/v1/requests/${id}/decisions`, {
    as,
    body: { decision: 'approve', reason: 'ok' },
  });

/** Every page of `path` (which must end in a query) through the cursors, as ids. */
async function allPages(path: string, as: DevPrincipal): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; n < 100; n++) {
    const r = await s.http('GET', `${path}${cursor ? `&cursor=${cursor}` : ''}`, { as });
    expect(r.status, r.text).toBe(200);
    ids.push(...r.body.requests.map((q: { id: string }) => q.id));
    cursor = r.body.nextCursor;
    if (cursor === null) return ids;
  }
  throw new Error('the cursors never ended');
}

describe('GET /v1/requests for the console', () => {
  describe('when an approver asks what awaits them', () => {
    let ids: string[];
    beforeAll(async () => {
      ids = [];
      for (let i = 0; i < 3; i++) ids.push(await createRequest(s, { env: 'prod' }));
    });

    it('lists the pending requests they may decide, oldest first, with progress and flags', async () => {
      const r = await s.http('GET', '/v1/requests?awaiting=me&order=oldest&limit=200', {
        as: 'bob',
      });
      const mine = r.body.requests.filter((q: { id: string }) => ids.includes(q.id));
      expect(mine.map((q: { id: string }) => q.id)).toEqual(ids);
      expect(mine[0]).toMatchObject({
        state: 'pending',
        approvals: 0,
        requiredApprovals: 2,
        requester: 'alice',
      });
      expect(mine[0].ageMs).toBeGreaterThanOrEqual(0);
      expect(mine[0].riskFlags).toEqual(
        expect.arrayContaining(['PRODUCTION', 'EXECUTOR_IS_PRINCIPAL', 'FIRST_TIME_RESOURCE']),
      );
    });

    it('drops a request once they decided it, and keeps it for the other approver', async () => {
      const id = ids[0]!;
      expect((await approve('bob', id)).status).toBe(201);
      const bob = await allPages('/v1/requests?awaiting=me&limit=50', 'bob');
      const carol = await allPages('/v1/requests?awaiting=me&limit=50', 'carol');
      expect(bob).not.toContain(id);
      expect(carol).toContain(id);
      const r = await s.http('GET', '/v1/requests?awaiting=me&limit=200', { as: 'carol' });
      expect(r.body.requests.find((q: { id: string }) => q.id === id).approvals).toBe(1);
    });

    it('shows a requester nothing to decide, and the requester never their own', async () => {
      const r = await s.http('GET', '/v1/requests?awaiting=me', { as: 'alice' });
      expect(r.body).toEqual({ requests: [], nextCursor: null });
      const own = await createRequest(s, { env: 'staging', requester: 'bob' });
      expect(await allPages('/v1/requests?awaiting=me&limit=50', 'bob')).not.toContain(own);
      expect(await allPages('/v1/requests?awaiting=me&limit=50', 'carol')).toContain(own);
    });
  });

  describe('when the caller asks for their own requests', () => {
    it('lists only what they requested', async () => {
      const own = await createRequest(s, { env: 'staging', requester: 'carol' });
      const carols = await allPages('/v1/requests?requestedBy=me&limit=50', 'carol');
      expect(carols).toContain(own);
      const r = await s.http('GET', '/v1/requests?requestedBy=me&limit=200', { as: 'carol' });
      expect(r.body.requests.every((q: { requester: string }) => q.requester === 'carol')).toBe(
        true,
      );
    });
  });

  describe('when the list is read page by page', () => {
    it('returns every request once, in order, whatever the page size', async () => {
      for (let i = 0; i < 5; i++) await createRequest(s, { env: 'staging' });
      const whole = await allPages('/v1/requests?order=oldest&limit=999', 'audra');
      for (const size of [1, 2, 3, 7]) {
        expect(await allPages(`/v1/requests?order=oldest&limit=${size}`, 'audra')).toEqual(whole);
      }
      const newest = await allPages('/v1/requests?order=newest&limit=4', 'audra');
      expect(newest).toEqual([...whole].reverse());
    });

    it('refuses a cursor it did not give', async () => {
      const r = await s.http('GET', '/v1/requests?cursor=bm9wZQ', { as: 'audra' });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('VALIDATION_FAILED');
    });
  });
});

describe('GET /v1/requests/:id/review', () => {
  it('names the eligible approvers, the risk flags and what the caller may do', async () => {
    const id = await createRequest(s, { env: 'prod' });
    const bob = await s.http('GET', `/v1/requests/${id}/review`, { as: 'bob' });
    expect(bob.status, bob.text).toBe(200);
    expect(requestIdOf(bob.body.body as RequestBody)).toBe(id);
    expect(bob.body).toMatchObject({
      id,
      state: 'pending',
      approvals: 0,
      requiredApprovals: 2,
      approverGroups: ['sre'],
      previous: null,
      you: { mayDecide: true, why: null, needsFreshSignIn: false },
    });
    expect(bob.body.eligibleApprovers.map((a: { id: string }) => a.id).sort()).toEqual([
      'bob',
      'carol',
    ]);
    expect(bob.body.riskFlags.map((f: { code: string }) => f.code)).toContain('PRODUCTION');
    const alice = await s.http('GET', `/v1/requests/${id}/review`, { as: 'alice' });
    expect(alice.body.you).toMatchObject({ mayDecide: false });
    expect(alice.body.you.why).toMatch(/approver role/);
    await approve('bob', id);
    const again = await s.http('GET', `/v1/requests/${id}/review`, { as: 'bob' });
    expect(again.body.you).toEqual({
      mayDecide: false,
      why: 'you have already decided',
      needsFreshSignIn: false,
    });
    expect(again.body.decisions[0]).toMatchObject({ approver: 'bob', via: 'api_token' });
  });

  it('points at the newest approved request of the same subject and action for the diff', async () => {
    const subject = uniqueNhi();
    await s.http('POST', '/v1/nhis', {
      as: 'admin',
      body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
    });
    const ask = async (resource: string) => {
      const r = await s.http('POST', '/v1/requests', {
        as: 'alice',
        body: {
          subject,
          action: 'grant',
          scope: [{ resource, permissions: ['read'] }],
          environment: 'staging',
          executor: { principal: 'deploy-eu' },
          duration: '1h',
          reason: 'diff me',
        },
      });
      expect(r.status, r.text).toBe(201);
      return r.body.id as string;
    };
    const first = await ask('db/orders');
    expect((await approve('bob', first)).status).toBe(201);
    const second = await ask('db/customers');
    const r = await s.http('GET', `/v1/requests/${second}/review`, { as: 'carol' });
    expect(r.body.previous.id).toBe(first);
    expect(r.body.previous.body.scope).toEqual([{ resource: 'db/orders', permissions: ['read'] }]);
    const codes = r.body.riskFlags.map((f: { code: string }) => f.code);
    expect(codes).toContain('FIRST_TIME_RESOURCE');
    const third = await ask('db/orders');
    const t = await s.http('GET', `/v1/requests/${third}/review`, { as: 'carol' });
    expect(t.body.riskFlags.map((f: { code: string }) => f.code)).not.toContain(
      'FIRST_TIME_RESOURCE',
    );
  });
});

describe('POST /v1/requests/preview', () => {
  const body = (subject: string, environment = 'prod') => ({
    subject,
    action: 'grant',
    scope: [{ resource: 'db/orders', permissions: ['read'] }],
    environment,
    executor: { principal: 'deploy-eu' },
    duration: '2h',
    reason: 'preview',
  });

  it('names the rule and who must approve, and writes nothing', async () => {
    const subject = uniqueNhi();
    await s.http('POST', '/v1/nhis', {
      as: 'admin',
      body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
    });
    const before = rowCounts(`${s.dir}/data`);
    const r = await s.http('POST', '/v1/requests/preview', { as: 'alice', body: body(subject) });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({
      rule: 'prod',
      environment: 'prod',
      requiredApprovals: 2,
      approverGroups: ['sre'],
      window: { durationMs: 7_200_000 },
    });
    expect(r.body.policyDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.body.eligibleApprovers.map((a: { id: string }) => a.id).sort()).toEqual([
      'bob',
      'carol',
    ]);
    expect(r.body.separationOfDuties.join(' ')).toMatch(/requester \(alice\) cannot approve/);
    expect(rowCounts(`${s.dir}/data`)).toEqual(before);
  });

  it('refuses bad input with the problems of creation', async () => {
    const unknown = await s.http('POST', '/v1/requests/preview', {
      as: 'alice',
      body: body('agent:nobody-registered-this'),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('NHI_UNKNOWN');
    const subject = uniqueNhi();
    await s.http('POST', '/v1/nhis', {
      as: 'admin',
      body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
    });
    const env = await s.http('POST', '/v1/requests/preview', {
      as: 'alice',
      body: body(subject, 'PROD'),
    });
    expect(env.body.code).toBe('ENVIRONMENT_UNKNOWN');
  });
});

describe('GET /v1/findings for the console', () => {
  it('answers a page and a cursor, filtered by state, kind and subject', async () => {
    const r = await s.http(
      'GET',
      '/v1/findings?state=open&kind=UNAPPROVED_CHANGE&subject=agent:x&limit=10',
      { as: 'audra' },
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ findings: [], nextCursor: null });
  });
});

describe('the inbox over 10,000 pending requests', () => {
  it('answers its first page of 50 in well under a second', async () => {
    const id = await createRequest(s, { env: 'staging' });
    const seed = (await s.http('GET', `/v1/requests/${id}`, { as: 'audra' })).body
      .body as RequestBody;
    const t0 = Date.parse(seed.createdAt);
    await s.running.store.transaction(async (tx) => {
      for (let i = 0; i < 10_000; i++) {
        const body: RequestBody = {
          ...seed,
          nonce: `bulk-${i}`,
          createdAt: new Date(t0 + i).toISOString(),
        };
        await tx.requests.insert({
          id: requestIdOf(body),
          body,
          state: 'pending',
          warrantId: null,
          updatedAt: body.createdAt,
        });
      }
    });
    const started = performance.now();
    const r = await s.http('GET', '/v1/requests?awaiting=me&order=oldest&limit=50', {
      as: 'carol',
    });
    const ms = performance.now() - started;
    expect(r.status).toBe(200);
    expect(r.body.requests).toHaveLength(50);
    expect(r.body.nextCursor).not.toBeNull();
    expect(ms).toBeLessThan(1000);
  }, 60_000);
});
