import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, issueWarrant } from '../helpers/chain.js';
import { editBehindServer } from '../helpers/db.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { runCli, type TestServer } from '../helpers/server.js';

const action = { resource: 'db/orders', permission: 'read', environment: 'staging' };

/**
 * Someone with write access to the database (a restored copy, an operator's shell) edits
 * the rows that cache what the log says. The server's signed limits still hold where
 * they can, and both offline checks name every row the log contradicts.
 */
describeOnEveryStore('the state audit, when rows are edited behind the server', (store) => {
  let s: TestServer;
  let dir: string;
  let reset: { requestId: string; warrantId: string; token: string };
  let raised: { requestId: string; warrantId: string; token: string };
  let pendingId: string;
  let findingId: string;
  const redeem = (token: string, env = 'staging') =>
    s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: token, action: { ...action, environment: env } },
    });

  beforeAll(async () => {
    s = await store.start();
    dir = mkdtempSync(join(tmpdir(), 'countersign-audit-'));
    reset = await issueWarrant(s, { maxUses: 1 });
    raised = await issueWarrant(s, { maxUses: 1 });
    expect((await redeem(reset.token)).status).toBe(200);
    expect((await redeem(raised.token)).status).toBe(200);
    pendingId = await createRequest(s);
    // Three denials make a REDEMPTION_ABUSE finding to edit later.
    for (let i = 0; i < 3; i++) expect((await redeem(raised.token, 'prod')).status).toBe(403);
    expect((await s.http('POST', '/v1/reconcile', { as: 'admin' })).status).toBe(200);
    const findings = await s.http('GET', '/v1/findings?state=open', { as: 'audra' });
    findingId = findings.body.findings.find(
      (f: { kind: string; warrantId: string }) =>
        f.kind === 'REDEMPTION_ABUSE' && f.warrantId === raised.warrantId,
    ).id;
    const verify = await runCli(['log', 'verify', '--database', s.databaseUrl], {});
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('state OK');
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when max_uses is raised on an exhausted single-use warrant', () => {
    it('still refuses it: the signed max_uses is the bound', async () => {
      await editBehindServer(
        s.databaseUrl,
        `update warrants set max_uses = 5 where id = '${raised.warrantId}'`,
      );
      const again = await redeem(raised.token);
      expect([again.status, again.body.code]).toEqual([403, 'WARRANT_EXHAUSTED']);
    });
  });

  describe('when the use counter of a spent warrant is reset to 0', () => {
    it('lets the live counter redeem once more, but the log now holds two uses of one', async () => {
      await editBehindServer(
        s.databaseUrl,
        `update warrants set uses = 0 where id = '${reset.warrantId}'`,
      );
      expect((await redeem(reset.token)).status).toBe(200);
    });

    it('fails the pinned evidence verify of that request with USES_EXCEED_SIGNED_MAX', async () => {
      const trust = join(dir, 'trust.json');
      expect((await s.cli(['trust', 'export', '-o', trust])).code).toBe(0);
      const bundle = join(dir, 'reset.json');
      const out = await s.cli(['evidence', 'export', reset.requestId, '-o', bundle], 'audra');
      expect(out.code, out.stderr).toBe(0);
      const verified = await runCli(['evidence', 'verify', bundle, '--trust', trust], {});
      expect(verified.code, verified.stdout).toBe(4);
      expect(verified.stdout).toContain(
        'FAILED USES_EXCEED_SIGNED_MAX: 2 allowed redemptions exceed the signed max_uses 1',
      );
    });
  });

  describe('when a request and a finding are moved to another state', () => {
    it('takes the edits', async () => {
      await editBehindServer(
        s.databaseUrl,
        `update requests set state = 'approved' where id = '${pendingId}'`,
      );
      await editBehindServer(
        s.databaseUrl,
        `update findings set state = 'resolved' where id = '${findingId}'`,
      );
    });
  });

  describe('when the index column of a denial is nulled', () => {
    it('still exports the denial: evidence is found by the leaf’s own request id', async () => {
      await editBehindServer(
        s.databaseUrl,
        `update events set request_id = null where type = 'redemption.denied'`,
      );
      const out = await s.cli(['--json', 'evidence', 'export', raised.requestId], 'audra');
      const types = JSON.parse(out.stdout).entries.map(
        (e: { leaf: string }) => JSON.parse(e.leaf).type,
      );
      expect(types.filter((t: string) => t === 'redemption.denied')).toHaveLength(4);
    });
  });

  describe('when the stored subtree hashes that proofs are built from are edited', () => {
    it('takes the edits: one hash changed, one deleted, one added beyond the log', async () => {
      const zeros = '0'.repeat(64);
      await editBehindServer(
        s.databaseUrl,
        `update log_nodes set hash = '${zeros}' where level = 1 and idx = 0`,
      );
      await editBehindServer(s.databaseUrl, `delete from log_nodes where level = 0 and idx = 2`);
      await editBehindServer(
        s.databaseUrl,
        `insert into log_nodes (level, idx, hash) values (0, 1000000, '${zeros}')`,
      );
    });
  });

  describe('then log verify of the database', () => {
    it('exits 4 and names every row the hashed log contradicts, with its code', async () => {
      const out = await runCli(['log', 'verify', '--database', s.databaseUrl], {});
      expect(out.code, out.stdout + out.stderr).toBe(4);
      expect(out.stdout).toContain('log OK');
      const lines = out.stdout.split('\n');
      expect(lines).toEqual(
        expect.arrayContaining([
          `STATE_DIVERGES: warrant ${reset.warrantId} uses 1 in the table, 2 in the log`,
          `USE_CHAIN_BROKEN: allowed redemption 2 of warrant ${reset.warrantId} carries use 1`,
          `USES_EXCEED_SIGNED_MAX: warrant ${reset.warrantId} was redeemed 2 times; it was signed for 1`,
          `STATE_DIVERGES: warrant ${raised.warrantId} max_uses 5 in the table, 1 signed`,
          `STATE_DIVERGES: request ${pendingId} is approved in the table, pending in the log`,
          `STATE_DIVERGES: finding ${findingId} is resolved in the table, open in the log`,
          // The replayed use exhausted the warrant a second time.
          `LOG_TRANSITION_INVALID: warrant.exhausted for request ${reset.requestId}, which was exhausted`,
          'NODE_HASH_MISMATCH: the stored subtree hash 1/0 is not the one its leaves give',
          'NODE_HASH_MISMATCH: the subtree hash 0/2 is not stored',
          expect.stringMatching(
            /^NODE_HASH_MISMATCH: 1 stored subtree hash\(es\) on level 0 lie beyond the \d+ leaves of the log$/,
          ),
        ]),
      );
      expect(out.stdout).toContain('state DIVERGES: 10 row(s) disagree with the log');
    });

    it('reports the same as JSON, each divergence with the leaf index that proves the log side', async () => {
      const out = await runCli(['--json', 'log', 'verify', '--database', s.databaseUrl], {});
      const report = JSON.parse(out.stdout);
      expect(report.state.ok).toBe(false);
      const chain = report.state.divergences.find(
        (d: { kind: string }) => d.kind === 'USE_CHAIN_BROKEN',
      );
      expect(chain).toMatchObject({ record: 'warrant', id: reset.warrantId });
      expect(chain.index).toBeGreaterThan(0);
    });
  });
});
