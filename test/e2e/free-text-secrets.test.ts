import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestBody } from '../fixtures/request-body.js';
import { createRequest, issueWarrant, uniqueNhi } from '../helpers/chain.js';
import { rowCounts } from '../helpers/db.js';
import { TestServer, type DevPrincipal } from '../helpers/server.js';

/**
 * A reason, a ticket or a description is written into the log, which can never be
 * redacted: text that looks like a credential is refused before anything is stored, as a
 * fulfilment's detail is.
 */

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
});
afterAll(async () => {
  await s?.stop();
});

const PASSWORD = 'hunter2-Xq9vL2mP';
const JWT = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLWJ5dGVz';
const LEAKY = [`rotated, old password=${PASSWORD}`, `the token was ${JWT}`];

async function expectRefused(
  method: string,
  path: string,
  as: DevPrincipal,
  body: Record<string, unknown>,
): Promise<void> {
  const before = rowCounts(s.dataDir);
  const r = await s.http(method, path, { as, body });
  expect(r.status, r.text).toBe(422);
  expect(r.body).toMatchObject({ code: 'SECRET_MATERIAL_REJECTED' });
  expect(r.text).not.toContain(PASSWORD);
  expect(r.text).not.toContain(JWT);
  expect(rowCounts(s.dataDir)).toEqual(before);
}

describe('free text that looks like a credential', () => {
  describe.each(LEAKY)('when it is %s', (leak) => {
    it('refuses a request with it as reason or ticket, and files nothing', async () => {
      const subject = uniqueNhi();
      await s.http('POST', '/v1/nhis', {
        as: 'admin',
        body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
      });
      await expectRefused('POST', '/v1/requests', 'alice', requestBody(subject, { reason: leak }));
      const ticket = requestBody(subject, { ticket: leak });
      await expectRefused('POST', '/v1/requests', 'alice', ticket);
    });

    it('refuses it as an NHI description or an owner change reason', async () => {
      const id = uniqueNhi('svc');
      const nhi = { id, kind: 'service_account', owner: 'team-data' };
      await expectRefused('POST', '/v1/nhis', 'admin', { ...nhi, description: leak });
      expect((await s.http('POST', '/v1/nhis', { as: 'admin', body: nhi })).status).toBe(201);
      const owner = `/v1/nhis/${encodeURIComponent(id)}/owner`;
      await expectRefused('PUT', owner, 'admin', { owner: 'sre', reason: leak });
    });

    it('refuses a decision or a withdrawal with it, and the request stays pending', async () => {
      const id = await createRequest(s);
      await expectRefused('POST', `/v1/requests/${id}/decisions`, 'bob', {
        decision: 'approve',
        reason: leak,
      });
      await expectRefused('POST', `/v1/requests/${id}/withdrawal`, 'alice', { reason: leak });
      const shown = await s.http('GET', `/v1/requests/${id}`, { as: 'alice' });
      expect(shown.body).toMatchObject({ state: 'pending' });
    });

    it('refuses a revocation with it, and the warrant still redeems', async () => {
      const w = await issueWarrant(s, { maxUses: 2 });
      await expectRefused('POST', `/v1/warrants/${w.warrantId}/revocation`, 'admin', {
        reason: leak,
      });
      const r = await s.http('POST', '/v1/redemptions', {
        as: 'deploy-eu',
        body: {
          warrant: w.token,
          action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
        },
      });
      expect(r.status, r.text).toBe(200);
    });
  });

  it.each([
    'the old database password leaked: rotate it',
    'duplicate of fnd_0mx9okvmj00005EQoaKbiC-W5eV9mc, see rcp_0mx9okvmj00004EQoaKbiC-W5eV9mc',
    'signed by key HzOkJiQeTzVNz0ktdnRx_KfSSt_CqkbDfV26NsYvgd4, rotated since',
  ])('lets a reason that only names a credential or cites ids through: %s', async (reason) => {
    const id = await createRequest(s);
    const d = await s.http('POST', `/v1/requests/${id}/decisions`, {
      as: 'bob',
      body: { decision: 'approve', reason },
    });
    expect(d.status, d.text).toBe(201);
  });
});
