import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { grantFact, observe } from '../helpers/observation.js';
import { findingsOf, reconcileNow, subjectOf, type FindingJson } from '../helpers/reconcile.js';
import { runCli, type TestServer } from '../helpers/server.js';

describeOnEveryStore('the evidence of a grant observed beyond its approved scope', (store) => {
  let s: TestServer;
  let dir: string;
  let requestId: string;
  let finding: FindingJson;
  let bundleFile: string;

  beforeAll(async () => {
    s = await store.start();
    dir = mkdtempSync(join(tmpdir(), 'countersign-evidence-grant-'));
    // Approved: read on db/orders at pg-eu. Observed: read on db/customers there as well.
    const w = await issueWarrant(s, { targets: ['pg-eu'] });
    requestId = w.requestId;
    const subject = await subjectOf(s, requestId);
    const seen = { subject, target: 'pg-eu', observedAt: new Date().toISOString() };
    for (const resource of ['db/orders', 'db/customers']) {
      const r = await observe(s, [{ ...seen, fact: grantFact(resource, 'read', true) }]);
      if (r.status !== 200) throw new Error(`observe: ${r.text}`);
    }
    await reconcileNow(s);
    const scoped = (await findingsOf(s, subject)).filter(
      (f) => f.kind === 'SCOPE_EXCEEDED_OBSERVED',
    );
    if (scoped.length !== 1) throw new Error(`findings: ${JSON.stringify(scoped)}`);
    finding = scoped[0] as FindingJson;
    const ack = await s.http('POST', `/v1/findings/${finding.id}/acknowledgement`, {
      as: 'admin',
      body: { reason: 'customers read is being revoked' },
    });
    if (ack.status !== 200) throw new Error(`acknowledge: ${ack.text}`);
    bundleFile = join(dir, 'bundle.json');
    const out = await s.cli(['evidence', 'export', requestId, '-o', bundleFile], 'audra');
    if (out.code !== 0) throw new Error(out.stderr);
  });
  afterAll(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('raises a finding that names no request but cites the warrant it was judged against', () => {
    expect(finding).toMatchObject({ requestId: null, target: 'pg-eu' });
    expect(finding.evidence.warrants).toHaveLength(1);
  });

  it("carries the finding's events in the request's bundle, after the warrant they cite", () => {
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as {
      entries: Array<{ index: number; leaf: string }>;
    };
    const events = bundle.entries.map((e) => ({ index: e.index, ...JSON.parse(e.leaf) }));
    expect(events.map((e) => e.type)).toEqual([
      'request.created',
      'decision.approved',
      'warrant.issued',
      // Sightings of the subject while its warrant is in force link the request.
      'observation.recorded',
      'observation.recorded',
      'finding.raised',
      'finding.acknowledged',
    ]);
    const issued = events.find((e) => e.type === 'warrant.issued');
    expect(finding.evidence.warrants).toEqual([issued.index]);
    expect(events.slice(5).map((e) => [e.data.id, e.links.request])).toEqual([
      [finding.id, undefined],
      [finding.id, undefined],
    ]);
  });

  it('verifies offline and shows the finding where it stands', async () => {
    const out = await runCli(['evidence', 'verify', bundleFile, '--trust-embedded'], {
      COUNTERSIGN_ADDR: 'http://127.0.0.1:9',
    });
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain('Verification: PASSED');
    expect(out.stdout).toMatch(/SCOPE_EXCEEDED_OBSERVED on pg-eu: acknowledged/);
  });

  describe('when a second request for the same subject is approved, and another grant seen', () => {
    const findingTypes = async (id: string) => {
      const r = await s.http('GET', `/v1/requests/${id}/evidence`, { as: 'audra' });
      expect(r.status, r.text).toBe(200);
      return (r.body.entries as Array<{ leaf: string }>)
        .map((e) => JSON.parse(e.leaf) as { type: string; data: { id?: string; key?: string } })
        .filter((e) => e.type === 'finding.raised')
        .map((e) => e.data.key);
    };

    it('carries each finding only in the bundles of the warrants it cites', async () => {
      const subject = await subjectOf(s, requestId);
      const r = await s.http('POST', '/v1/requests', {
        as: 'alice',
        body: {
          subject,
          action: 'grant',
          scope: [{ resource: 'db/invoices', permissions: ['read'] }],
          environment: 'staging',
          targets: ['pg-eu'],
          executor: { principal: 'deploy-eu' },
          duration: '2h',
          maxUses: 1,
          reason: 'invoices too',
        },
      });
      expect(r.status, r.text).toBe(201);
      const second = (r.body as { id: string }).id;
      const d = await s.http('POST', `/v1/requests/${second}/decisions`, {
        as: 'bob',
        body: { decision: 'approve', reason: 'ok' },
      });
      expect(d.status, d.text).toBe(201);
      const seen = { subject, target: 'pg-eu', observedAt: new Date().toISOString() };
      const o = await observe(s, [{ ...seen, fact: grantFact('db/payroll', 'read', true) }]);
      expect(o.status, o.text).toBe(200);
      await reconcileNow(s);
      const payroll = `SCOPE_EXCEEDED_OBSERVED|${subject}|pg-eu|db/payroll|read`;
      const customers = `SCOPE_EXCEEDED_OBSERVED|${subject}|pg-eu|db/customers|read`;
      // Judged against both warrants' scopes, payroll cites both; customers, raised
      // before the second warrant, cites only the first.
      expect(await findingTypes(requestId)).toEqual([customers, payroll]);
      expect(await findingTypes(second)).toEqual([payroll]);
    });
  });
});
