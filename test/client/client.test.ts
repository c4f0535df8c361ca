import { describe, expect, it } from 'vitest';
import {
  CountersignApiError,
  CountersignClient,
  CountersignClientError,
  isRedemptionDenial,
  type CreateRequestInput,
} from '../../src/client/index.js';
import { uniqueNhi } from '../helpers/chain.js';
import { fp } from '../helpers/fulfilment.js';
import { serveDuringSuite, TestServer, type DevPrincipal } from '../helpers/server.js';
import { rejection } from '../helpers/expect-code.js';

describe('CountersignClient', () => {
  let s: TestServer;
  serveDuringSuite(TestServer, (started) => (s = started));

  const as = (p: DevPrincipal) => new CountersignClient({ baseUrl: s.url, token: s.tokens[p] });
  const action = {
    resource: 'db/orders',
    permission: 'read',
    environment: 'staging',
    target: 'eu',
  };

  /** Registers a fresh NHI and asks, as alice, for read on db/orders in `environment`. */
  async function ask(environment = 'staging', maxUses = 1) {
    const subject = uniqueNhi();
    await as('admin').request('POST', '/v1/nhis', {
      id: subject,
      kind: 'ai_agent',
      owner: 'team-data',
    });
    const input: CreateRequestInput = {
      subject,
      action: 'grant',
      scope: [{ resource: 'db/orders', permissions: ['read'] }],
      environment,
      targets: ['eu'],
      executor: { principal: 'deploy-eu' },
      duration: '2h',
      maxUses,
      reason: 'client SDK test',
    };
    return { subject, request: await as('alice').createRequest(input) };
  }

  /** A staging request approved by bob; resolves to its warrant token. */
  async function approved(maxUses = 1): Promise<{ subject: string; warrant: string }> {
    const { subject, request } = await ask('staging', maxUses);
    await as('bob').decide(request.id, { decision: 'approve' });
    return { subject, warrant: (await as('deploy-eu').getWarrant(request.id)).token };
  }

  describe('when a requester waits for a prod request', () => {
    it('resolves once both approvers have approved, not before', async () => {
      const { request } = await ask('prod');
      expect(request.state).toBe('pending');
      let settled = false;
      const waiting = as('alice').waitForDecision(request.id, { intervalMs: 20 });
      void waiting.then(() => (settled = true));

      const first = await as('bob').decide(request.id, { decision: 'approve', reason: 'ok' });
      expect(first).toMatchObject({ state: 'pending', approvals: 1, warrantId: null });
      expect((await as('alice').getRequest(request.id)).state).toBe('pending');
      expect(settled).toBe(false);

      const second = await as('carol').decide(request.id, { decision: 'approve' });
      expect(second.warrantId).toEqual(expect.any(String));
      const view = await waiting;
      expect(view).toMatchObject({ id: request.id, state: 'approved', approvals: 2 });
      expect(view.warrantId).toBe(second.warrantId);
    });

    it('resolves denied when an approver denies', async () => {
      const { request } = await ask('prod');
      const waiting = as('alice').waitForDecision(request.id, { intervalMs: 20 });
      await as('carol').decide(request.id, { decision: 'deny', reason: 'not now' });
      expect(await waiting).toMatchObject({ state: 'denied', warrantId: null });
    });
  });

  describe('when nobody decides', () => {
    it('gives up with WAIT_TIMEOUT', async () => {
      const { request } = await ask('prod');
      const e = await rejection(
        as('alice').waitForDecision(request.id, { intervalMs: 20, timeoutMs: 200 }),
      );
      expect(e).toBeInstanceOf(CountersignClientError);
      expect(e).toMatchObject({ code: 'WAIT_TIMEOUT' });
    });

    it('stops with the reason when the caller aborts', async () => {
      const { request } = await ask('prod');
      const ctl = new AbortController();
      const waiting = rejection(
        as('alice').waitForDecision(request.id, { intervalMs: 20, signal: ctl.signal }),
      );
      const reason = new Error('deploy cancelled');
      ctl.abort(reason);
      expect(await waiting).toBe(reason);
    });
  });

  describe('when the executor redeems its warrant', () => {
    it('checks with a dry run, redeems, verifies the receipt and reports the fulfilment', async () => {
      const { subject, warrant } = await approved();
      const cs = as('deploy-eu');

      const dry = await cs.redeem({ warrant, action, dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, allowed: true, use: 1, maxUses: 1 });

      const out = await cs.redeem({ warrant, action });
      expect(out).toMatchObject({ use: 1, maxUses: 1, remaining: 0 });
      const claims = await cs.verifyReceipt(out.receipt);
      expect(claims).toMatchObject({
        jti: out.receiptId,
        warrant_id: out.warrantId,
        request_id: out.requestId,
        sub: subject,
        executor: 'deploy-eu',
        action,
      });

      const report = await cs.fulfil({
        receipt: out.receipt,
        target: 'eu',
        outcome: 'success',
        fingerprint: fp(subject),
      });
      expect(report).toMatchObject({ receiptId: out.receiptId, target: 'eu', phase: 'apply' });
    });

    it("refuses a spent warrant with the server's denial code", async () => {
      const { warrant } = await approved();
      const cs = as('deploy-eu');
      await cs.redeem({ warrant, action });
      const e = await rejection(cs.redeem({ warrant, action }));
      expect(e).toBeInstanceOf(CountersignApiError);
      expect(e).toMatchObject({ status: 403, code: 'WARRANT_EXHAUSTED' });
      expect(isRedemptionDenial(e)).toBe(true);
      expect((e as Error).message).not.toContain(warrant);
    });

    it('answers a retry with the same idempotency key with the first receipt', async () => {
      const { warrant } = await approved(2);
      const cs = as('deploy-eu');
      const first = await cs.redeem({ warrant, action, idempotencyKey: 'job-7' });
      const again = await cs.redeem({ warrant, action, idempotencyKey: 'job-7' });
      expect(again).toEqual(first);
      expect(first.use).toBe(1);
    });
  });

  describe('when a collector reports observations', () => {
    it('records them, and recognises one sent again', async () => {
      const { subject } = await approved();
      const observations = [
        {
          subject,
          target: 'eu',
          observedAt: new Date().toISOString(),
          fact: { kind: 'secret_version' as const, fingerprint: fp(`${subject}-seen`) },
        },
      ];
      const cs = as('collector');
      expect(await cs.observe({ observations })).toMatchObject({ recorded: 1, duplicates: 0 });
      expect(await cs.observe({ observations })).toMatchObject({ recorded: 0, duplicates: 1 });
    });
  });

  describe('when the server refuses a call', () => {
    it("carries the server's code and status", async () => {
      const unknown = await rejection(as('alice').getRequest(`sha256:${'0'.repeat(64)}`));
      expect(unknown).toMatchObject({ status: 404, code: 'REQUEST_UNKNOWN' });
      expect(isRedemptionDenial(unknown)).toBe(false);

      const anonymous = new CountersignClient({ baseUrl: s.url });
      expect(await rejection(anonymous.request('GET', '/v1/keys'))).toMatchObject({
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    });
  });
});
