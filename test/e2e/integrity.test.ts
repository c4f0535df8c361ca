import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/keys/keyring.js';
import { RECEIPT_TYP } from '../../src/redemption/receipt.js';
import { parseKek } from '../../src/keys/seal.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { createRequest, issueWarrant, uniqueNhi } from '../helpers/chain.js';
import { requestCreateArgs } from '../helpers/cli-args.js';
import { editBehindServer } from '../helpers/db.js';
import { serveDuringSuite, TestServer } from '../helpers/server.js';

const action = { resource: 'db/orders', permission: 'read', environment: 'staging' };

/** A compact JWS's payload, read without verifying it. */
const receiptClaims = (jws: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

/** Signs a receipt with the server's active key, read from its data dir as a thief could. */
async function signWithServerKey(s: TestServer, claims: object): Promise<string> {
  const kek = parseKek(readFileSync(join(s.dataDir, 'kek'), 'utf8'));
  const store = await openSqliteStore({ file: join(s.dataDir, 'countersign.db'), readonly: true });
  try {
    return await KeyRing.load(await store.read.keys.list(), kek).signJws(claims, RECEIPT_TYP);
  } finally {
    await store.close();
  }
}

describe('integrity at the edges of what was approved', () => {
  let s: TestServer;
  const redeem = (token: string, over: Record<string, unknown> = {}) =>
    s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: token, action: { ...action, ...over } },
    });
  const approve = async (requestId: string) => {
    const d = await s.http('POST', `/v1/requests/${requestId}/decisions`, {
      as: 'bob',
      body: { decision: 'approve', reason: 'ok' },
    });
    expect(d.status, d.text).toBe(201);
    const w = await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'admin' });
    return w.body as { token: string; notBefore: string; notAfter: string };
  };

  serveDuringSuite(TestServer, (started) => (s = started));

  describe('when the approved notAfter falls inside a second', () => {
    it('allows a redemption just before it and refuses one at notAfter + 1 ms', async () => {
      const t0 = await s.setClock(new Date('2027-03-01T10:00:00.000Z'));
      const notAfter = new Date(t0.getTime() + 3_600_000 + 470);
      const subject = uniqueNhi();
      await s.http('POST', '/v1/nhis', {
        as: 'admin',
        body: { id: subject, kind: 'ai_agent', owner: 'team-data' },
      });
      const created = await s.http('POST', '/v1/requests', {
        as: 'alice',
        body: {
          subject,
          action: 'grant',
          scope: [{ resource: 'db/orders', permissions: ['read'] }],
          environment: 'staging',
          executor: { principal: 'deploy-eu' },
          notAfter: notAfter.toISOString(),
          maxUses: 2,
          reason: 'exact window',
        },
      });
      expect(created.status, created.text).toBe(201);
      const w = await approve(created.body.id);
      expect(w.notAfter).toBe(notAfter.toISOString());
      await s.setClock(new Date(notAfter.getTime() - 1000));
      expect((await redeem(w.token)).status).toBe(200);
      // The signed exp is the whole second before notAfter; a redemption 1 ms after the
      // approved end (and so before the second a ceiling would have given) is refused.
      await s.setClock(new Date(notAfter.getTime() + 1));
      const late = await redeem(w.token);
      expect([late.status, late.body.code]).toEqual([403, 'WARRANT_EXPIRED']);
    });
  });

  describe('when a --duration request is approved late', () => {
    it('starts the window at the approval, so none of it is lost to the wait', async () => {
      const requestId = await createRequest(s, { duration: '1h' });
      const shown = await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' });
      expect(shown.body.body).toMatchObject({ durationMs: 3_600_000 });
      expect(shown.body.body).not.toHaveProperty('notAfter');
      const approvedAt = await s.advanceClock('3h');
      const w = await approve(requestId);
      expect(Date.parse(w.notBefore)).toBeGreaterThanOrEqual(approvedAt.getTime());
      expect(Date.parse(w.notAfter) - Date.parse(w.notBefore)).toBe(3_600_000);
      await s.advanceClock('59m');
      expect((await redeem(w.token)).status).toBe(200);
    });
  });

  describe('when the CLI is given no window', () => {
    it('refuses as a usage error instead of choosing one hour', async () => {
      const noWindow = { duration: undefined, reason: 'no window' };
      const out = await s.cli(requestCreateArgs(uniqueNhi(), noWindow), 'alice');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('give a window');
    });
  });

  describe('when a warrant has targets', () => {
    it('binds each receipt to the target it was redeemed for', async () => {
      const w = await issueWarrant(s, { maxUses: 3, targets: ['eu', 'us'] });
      const untargeted = await redeem(w.token);
      expect([untargeted.status, untargeted.body.code]).toEqual([403, 'TARGET_UNKNOWN']);
      const eu = await redeem(w.token, { target: 'eu' });
      expect(eu.status).toBe(200);
      const fulfil = (target: string) =>
        s.http('POST', '/v1/fulfilments', {
          as: 'deploy-eu',
          body: {
            receipt: eu.body.receipt,
            target,
            outcome: 'success',
            fingerprint: `sha256:${'a'.repeat(64)}`,
          },
        });
      const cross = await fulfil('us');
      expect([cross.status, cross.body.code]).toEqual([422, 'TARGET_NOT_REDEEMED']);
      expect((await fulfil('eu')).status).toBe(201);
    });

    it('refuses a receipt no redemption was recorded for, even one signed with its key once revoked', async () => {
      const w = await issueWarrant(s, { maxUses: 3, targets: ['eu', 'us'] });
      const eu = await redeem(w.token, { target: 'eu' });
      expect(eu.status).toBe(200);
      // Whoever took the signing key can sign any receipt: here, one for a target never redeemed.
      const forged = await signWithServerKey(s, {
        ...receiptClaims(eu.body.receipt as string),
        jti: 'rcp_forged-but-well-signed',
        action: { ...action, target: 'us' },
      });
      const kid = (await s.http('GET', '/v1/keys', { as: 'admin' })).body.keys[0].kid as string;
      const revoked = await s.http('POST', `/v1/keys/${kid}/revocation`, {
        as: 'admin',
        body: { reason: 'the signing key leaked' },
      });
      expect(revoked.status, revoked.text).toBe(200);
      const report = (receipt: string, target: string) =>
        s.http('POST', '/v1/fulfilments', {
          as: 'deploy-eu',
          body: { receipt, target, outcome: 'success', fingerprint: `sha256:${'b'.repeat(64)}` },
        });
      const r = await report(forged, 'us');
      expect([r.status, r.body.code]).toEqual([403, 'RECEIPT_INVALID']);
      // The receipt the server gave out is still the record of a real redemption.
      expect((await report(eu.body.receipt as string, 'eu')).status).toBe(201);
    });
  });

  describe('when log integration fails in the background', () => {
    it('logs it at error level and turns /readyz not ready once events wait past the bound', async () => {
      expect((await s.http('GET', '/readyz')).status).toBe(200);
      // Every stored subtree hash is wrong: no new root can be proven consistent.
      await editBehindServer(s.databaseUrl, `update log_nodes set hash = '${'0'.repeat(64)}'`);
      await createRequest(s);
      // The integrator runs every 200 ms; wait for its report rather than for a fixed time.
      for (let i = 0; i < 100 && !s.logs().includes('log integration failed'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const failure = s
        .logs()
        .split('\n')
        .find((l) => l.includes('log integration failed'));
      // pino's JSON lines: 50 is error, the level an operator's alerting watches.
      expect(JSON.parse(failure ?? '{}')).toMatchObject({ level: 50 });
      expect(failure).toContain('LOG_INCONSISTENT');
      expect((await s.http('GET', '/readyz')).status).toBe(200);
      await s.advanceClock('31s');
      const ready = await s.http('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe('NOT_READY');
      expect(ready.body.detail).toContain('outside any signed checkpoint');
      expect(ready.body.detail).toContain('LOG_INCONSISTENT');
    });
  });
});
