import { describe, expect, it } from 'vitest';
import { issueWarrant, stagingAction } from '../helpers/chain.js';
import { eventCount } from '../helpers/db.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

/**
 * What an enforcement point needs besides redeeming: a check that spends nothing (a
 * Kubernetes dry run), and a retry that answers the first redemption again (an API
 * server resends an AdmissionReview with the same uid).
 */
describeOnEveryStore('dry runs and idempotent retries of a redemption', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));

  const issue = (o: { maxUses?: number } = {}) => issueWarrant(s, { targets: ['eu'], ...o });
  const redeemAs = (body: Record<string, unknown>) =>
    s.http('POST', '/v1/redemptions', { as: 'deploy-eu', body });

  describe('when a redemption is a dry run', () => {
    it('answers the use it would spend, and spends, signs and records nothing', async () => {
      const w = await issue({ maxUses: 2 });
      const events = await eventCount(s.databaseUrl);
      for (let i = 0; i < 3; i++) {
        const r = await redeemAs({ warrant: w.token, action: stagingAction('eu'), dryRun: true });
        expect(r.status, r.text).toBe(200);
        expect(r.body).toEqual({
          dryRun: true,
          allowed: true,
          warrantId: w.warrantId,
          requestId: w.requestId,
          use: 1,
          maxUses: 2,
          remaining: 1,
        });
      }
      expect(await eventCount(s.databaseUrl)).toBe(events);
      const real = await redeemAs({ warrant: w.token, action: stagingAction('eu') });
      expect(real.body).toMatchObject({ use: 1, remaining: 1 });
    });

    it('refuses with the denial code a redemption would get, and records no denial', async () => {
      const w = await issue();
      const events = await eventCount(s.databaseUrl);
      const action = stagingAction('eu', 'db/payments');
      const r = await redeemAs({ warrant: w.token, action, dryRun: true });
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('SCOPE_EXCEEDED');
      expect(await eventCount(s.databaseUrl)).toBe(events);
    });

    it('refuses once the warrant is spent, with WARRANT_EXHAUSTED', async () => {
      const w = await issue({ maxUses: 1 });
      await redeemAs({ warrant: w.token, action: stagingAction('eu') });
      const r = await redeemAs({ warrant: w.token, action: stagingAction('eu'), dryRun: true });
      expect(r.body.code).toBe('WARRANT_EXHAUSTED');
    });
  });

  describe('when a redemption is retried with its idempotency key', () => {
    it('answers the same receipt, byte for byte, and spends one use', async () => {
      const w = await issue({ maxUses: 3 });
      const body = { warrant: w.token, action: stagingAction('eu'), idempotencyKey: 'uid-1' };
      const first = await redeemAs(body);
      expect(first.status, first.text).toBe(200);
      const events = await eventCount(s.databaseUrl);
      const again = await redeemAs(body);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await eventCount(s.databaseUrl)).toBe(events);
      const next = await redeemAs({ ...body, idempotencyKey: 'uid-2' });
      expect(next.body).toMatchObject({ use: 2, remaining: 1 });
    });

    it('spends one use when twenty copies race', async () => {
      const w = await issue({ maxUses: 5 });
      const body = { warrant: w.token, action: stagingAction('eu'), idempotencyKey: 'race' };
      const answers = await Promise.all(Array.from({ length: 20 }, () => redeemAs(body)));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
      const receipts = new Set(answers.map((a) => (a.body as { receipt: string }).receipt));
      expect(receipts.size).toBe(1);
      const next = await redeemAs({ ...body, idempotencyKey: 'after-the-race' });
      expect(next.body).toMatchObject({ use: 2 });
    });

    it('answers both copies with one receipt when they race for the last use', async () => {
      // On PostgreSQL both once read "no earlier redemption", and the second, refused by
      // the spend, was recorded as WARRANT_EXHAUSTED.
      for (let round = 0; round < 5; round++) {
        const w = await issue({ maxUses: 1 });
        const body = {
          warrant: w.token,
          action: stagingAction('eu'),
          idempotencyKey: `last-${round}`,
        };
        const events = await eventCount(s.databaseUrl);
        const answers = await Promise.all([redeemAs(body), redeemAs(body)]);
        expect(answers.map((a) => [a.status, a.body.code])).toEqual([
          [200, undefined],
          [200, undefined],
        ]);
        expect(answers[1]?.body).toEqual(answers[0]?.body);
        // One redemption.allowed and one warrant.exhausted: no denial recorded.
        expect(await eventCount(s.databaseUrl)).toBe(events + 2);
      }
    });

    it('refuses with WARRANT_REVOKED, never WARRANT_EXHAUSTED, what races a revocation', async () => {
      for (let round = 0; round < 5; round++) {
        const w = await issue({ maxUses: 10 });
        const redeem = (i: number) =>
          redeemAs({
            warrant: w.token,
            action: stagingAction('eu'),
            idempotencyKey: `rv-${round}-${i}`,
          });
        const revoke = s.http('POST', `/v1/warrants/${w.warrantId}/revocation`, {
          as: 'alice',
          body: { reason: 'called off' },
        });
        const answers = await Promise.all([0, 1, 2, 3, 4, 5].map(redeem));
        expect((await revoke).status).toBe(200);
        const refused = answers.filter((a) => a.status !== 200).map((a) => a.body.code);
        expect(refused).toEqual(refused.map(() => 'WARRANT_REVOKED'));
      }
    });

    it('refuses the key with another action with IDEMPOTENCY_KEY_REUSED, spending nothing', async () => {
      const w = await issue({ maxUses: 3 });
      const body = { warrant: w.token, action: stagingAction('eu'), idempotencyKey: 'uid-3' };
      await redeemAs(body);
      const other = await redeemAs({ ...body, action: stagingAction('eu', 'db/orders', 'write') });
      expect(other.status).toBe(409);
      expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const otherWarrant = await issue();
      const swapped = await redeemAs({ ...body, warrant: otherWarrant.token });
      expect(swapped.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
      const next = await redeemAs({ ...body, idempotencyKey: 'uid-4' });
      expect(next.body).toMatchObject({ use: 2 });
    });

    it('refuses a retry once the warrant is revoked, and records the refusal', async () => {
      const w = await issue({ maxUses: 3 });
      const body = { warrant: w.token, action: stagingAction('eu'), idempotencyKey: 'uid-rv' };
      expect((await redeemAs(body)).status).toBe(200);
      const revoked = await s.http('POST', `/v1/warrants/${w.warrantId}/revocation`, {
        as: 'alice',
        body: { reason: 'the change was called off' },
      });
      expect(revoked.status, revoked.text).toBe(200);
      const events = await eventCount(s.databaseUrl);
      const again = await redeemAs(body);
      expect([again.status, again.body.code]).toEqual([403, 'WARRANT_REVOKED']);
      expect(await eventCount(s.databaseUrl)).toBe(events + 1);
    });

    it('refuses a retry once the window has closed, though its use was spent inside it', async () => {
      const w = await issue({ maxUses: 1 });
      const body = { warrant: w.token, action: stagingAction('eu'), idempotencyKey: 'uid-late' };
      expect((await redeemAs(body)).status).toBe(200);
      // The last use: a retry inside the window is still answered.
      expect((await redeemAs(body)).status).toBe(200);
      const later = await s.advanceClock('3h');
      try {
        const again = await redeemAs(body);
        expect([again.status, again.body.code]).toEqual([403, 'WARRANT_EXPIRED']);
      } finally {
        await s.setClock(new Date(later.getTime() - 3 * 3_600_000));
      }
    });

    it('keeps keys apart per executor', async () => {
      const w = await issue({ maxUses: 2 });
      const body = { warrant: w.token, action: stagingAction('eu'), idempotencyKey: 'shared' };
      await redeemAs(body);
      // Another executor's key of the same name is its own: here it is refused for
      // being the wrong executor, not answered with deploy-eu's receipt.
      const r = await s.http('POST', '/v1/redemptions', { as: 'deploy-us', body });
      expect(r.body.code).toBe('EXECUTOR_MISMATCH');
    });
  });
});
