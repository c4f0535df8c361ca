import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueNhi } from '../helpers/chain.js';
import { TestServer } from '../helpers/server.js';

/** A strict rule for one table before a broad one for every table. */
const POLICY = `version: 1
environments: [prod]
rules:
  - name: payments-strict
    match: { resources: ['db/payments'] }
    approvals: { required: 3, groups: [sre] }
    excludeOwner: true
    requesterMayExecute: false
    maxDuration: 15m
    maxUses: 1
  - name: db-lax
    match: { resources: ['db/*'] }
    approvals: { required: 1, groups: [sre] }
    maxDuration: 8h
    maxUses: 10
`;

describe('a policy with a strict rule for one table before a broad one', () => {
  let dir: string;
  let s: TestServer;
  let subject: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-tiers-'));
    const policyFile = join(dir, 'policy.yaml');
    writeFileSync(policyFile, POLICY);
    s = await TestServer.start({ config: { policyFile } });
    subject = uniqueNhi();
    const nhi = await s.http('POST', '/v1/nhis', {
      as: 'alice',
      body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
    });
    expect(nhi.status, nhi.text).toBe(201);
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = (resources: string[], duration: string, maxUses: number) =>
    s.http('POST', '/v1/requests', {
      as: 'alice',
      body: {
        subject,
        action: 'grant',
        scope: resources.map((resource) => ({ resource, permissions: ['write'] })),
        environment: 'prod',
        targets: [],
        executor: { principal: 'deploy-eu' },
        duration,
        maxUses,
        reason: 'backfill',
      },
    });

  it('puts the table under its strict rule when asked for alone', async () => {
    const r = await ask(['db/payments'], '15m', 1);
    expect(r.status, r.text).toBe(201);
    const shown = await s.http('GET', `/v1/requests/${r.body.id}`, { as: 'audra' });
    expect(shown.body.body.policy).toMatchObject({ rule: 'payments-strict', requiredApprovals: 3 });
  });

  it.each([
    ['a wildcard over every table', ['db/*']],
    ['the table bundled with another', ['db/payments', 'db/scratch']],
  ])('refuses %s with SCOPE_SPANS_RULES, creating nothing', async (_, resources) => {
    const before = (await s.http('GET', '/v1/requests', { as: 'audra' })).body.requests.length;
    const r = await ask(resources, '8h', 10);
    expect([r.status, r.body.code]).toEqual([422, 'SCOPE_SPANS_RULES']);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    const after = (await s.http('GET', '/v1/requests', { as: 'audra' })).body.requests.length;
    expect(after).toBe(before);
  });

  it('still lets the other tables through the broad rule together', async () => {
    const r = await ask(['db/scratch', 'db/orders'], '8h', 10);
    expect(r.status, r.text).toBe(201);
  });
});
