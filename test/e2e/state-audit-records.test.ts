import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPostgresUrl } from '../../src/store/open.js';
import { issueWarrant, stagingAction } from '../helpers/chain.js';
import { editBehindServer, query } from '../helpers/db.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { fp, fulfilOk, receiptFor } from '../helpers/fulfilment.js';
import { pgQuery } from '../helpers/postgres.js';
import { runCli, type TestServer } from '../helpers/server.js';

/**
 * The decisions, redemptions and fulfilments are written with their events and never
 * changed, so an edit of one of them is an edit behind the server: who approved, the
 * denials that REDEMPTION_ABUSE counts, the reports reconciliation believes. `log verify`
 * of the data names each row the log contradicts.
 */
describeOnEveryStore('the state audit of the record tables', (store) => {
  let s: TestServer;
  let chain: { requestId: string; warrantId: string; token: string };
  let decisionId: string;
  let fulfilmentId: string;

  /** `log verify` of the server's data: its data dir on SQLite, its database otherwise. */
  const verify = () =>
    runCli(
      [
        'log',
        'verify',
        ...(isPostgresUrl(s.databaseUrl) ? ['--database', s.databaseUrl] : ['--data', s.dataDir]),
      ],
      {},
    );
  const one = async (sql: string): Promise<string> => {
    const rows = isPostgresUrl(s.databaseUrl)
      ? await pgQuery<{ id: string }>(s.databaseUrl, sql)
      : query<{ id: string }>(s.dataDir, sql);
    return rows[0]!.id;
  };
  /** Makes an edit, then expects log verify to exit 4 naming it. */
  async function editAndVerify(sql: string, line: string | RegExp): Promise<void> {
    await editBehindServer(s.databaseUrl, sql);
    const out = await verify();
    expect(out.code, out.stdout + out.stderr).toBe(4);
    expect(out.stdout).toContain('log OK');
    expect(out.stdout.split('\n')).toContainEqual(
      typeof line === 'string' ? line : expect.stringMatching(line),
    );
  }

  beforeAll(async () => {
    s = await store.start();
    chain = await issueWarrant(s, { maxUses: 2, targets: ['eu'] });
    const receipt = await receiptFor(s, chain.token, stagingAction('eu'));
    await fulfilOk(s, { receipt, target: 'eu', outcome: 'success', fingerprint: fp('v1') });
    const denied = await s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: chain.token, action: { ...stagingAction('eu'), environment: 'prod' } },
    });
    expect(denied.status).toBe(403);
    decisionId = await one(`select id from decisions where request_id = '${chain.requestId}'`);
    fulfilmentId = await one(`select id from fulfilments where warrant_id = '${chain.warrantId}'`);
  });
  afterAll(async () => {
    await s?.stop();
  });

  describe('when nothing was edited', () => {
    it('passes, counting the rows of each table it compared', async () => {
      const out = await verify();
      expect(out.code, out.stdout + out.stderr).toBe(0);
      expect(out.stdout).toContain('1 decisions, 2 redemptions, 1 fulfilments, 0 observations');
    });
  });

  describe('when who approved is changed', () => {
    it('exits 4 naming the decision and its approver', () =>
      editAndVerify(
        `update decisions set approver = 'mallory' where approver = 'bob'`,
        `STATE_DIVERGES: decision ${decisionId} in the decisions table: approver is "mallory", the log says "bob"`,
      ));
  });

  describe('when the reason of a decision is changed', () => {
    it('exits 4 naming the decision and its reason', () =>
      editAndVerify(
        `update decisions set reason = 'emergency' where id = '${decisionId}'`,
        `STATE_DIVERGES: decision ${decisionId} in the decisions table: reason is "emergency", the log says "ok"`,
      ));
  });

  describe('when the denials are deleted', () => {
    it('exits 4 naming the logged denial whose row is missing', () =>
      editAndVerify(
        `delete from redemptions where outcome != 'allow'`,
        /^STATE_DIVERGES: the denied redemption logged at entry \d+ is in the log but missing from the redemptions table$/,
      ));
  });

  describe('when a successful fulfilment is inserted that was never reported', () => {
    it('exits 4 naming the row the log does not explain', () =>
      editAndVerify(
        `insert into fulfilments (id, request_id, warrant_id, receipt_id, executor, subject,
           target, phase, outcome, fingerprint, detail, at, event_id)
         select 'ful_forged', request_id, warrant_id, receipt_id, executor, subject,
           'us', phase, 'success', fingerprint, detail, at, event_id
         from fulfilments where id = '${fulfilmentId}'`,
        'STATE_DIVERGES: fulfilment ful_forged is in the fulfilments table but not in the log',
      ));
  });

  describe('when the outcome of a fulfilment is changed', () => {
    it('exits 4 naming the fulfilment and its outcome', () =>
      editAndVerify(
        `update fulfilments set outcome = 'failure' where id = '${fulfilmentId}'`,
        `STATE_DIVERGES: fulfilment ${fulfilmentId} in the fulfilments table: outcome is "failure", the log says "success"`,
      ));
  });
});
