import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { issueWarrant, uniqueNhi, createRequest } from '../helpers/chain.js';
import { redeemArgs, requestCreateArgs, type Flags } from '../helpers/cli-args.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

type Redemption = Flags & { readonly as?: 'deploy-eu' | 'deploy-us' };

const redeem = (s: TestServer, token: string, { as, ...over }: Redemption = {}) =>
  s.cli(redeemArgs(token, over), as ?? 'deploy-eu');

/** The log entries of one request, as an auditor's evidence export holds them. */
async function loggedEvents(
  s: TestServer,
  requestId: string,
): Promise<Array<{ type: string; leaf: string; data: Record<string, unknown> }>> {
  const r = await s.http('GET', `/v1/requests/${requestId}/evidence`, { as: 'audra' });
  if (r.status !== 200) throw new Error(`evidence: ${r.text}`);
  return r.body.entries.map((e: { leaf: string }) => ({ ...JSON.parse(e.leaf), leaf: e.leaf }));
}

describeOnEveryStore('the approval chain, through the CLI against a real server', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));

  describe('when a requester walks one full chain', () => {
    it('creates, approves, issues a warrant and redeems it for a signed receipt', async () => {
      const subject = uniqueNhi('svc');
      const add = await s.cli(
        ['nhi', 'add', '--id', subject, '--kind', 'service_account', '--owner', 'team-data'],
        'alice',
      );
      expect(add.code, add.stderr).toBe(0);
      const rotation = { action: 'rotate', scope: 'secrets/payments=rotate', env: 'prod' };
      const created = await s.cli(
        requestCreateArgs(subject, { ...rotation, target: 'eu', reason: 'quarterly' }),
        'alice',
      );
      expect(created.code, created.stderr).toBe(0);
      const id = created.stdout.trim();
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);

      expect((await s.cli(['approve', id, '--reason', 'looks right'], 'bob')).stdout).toContain(
        'pending (1 approval(s))',
      );
      expect((await s.cli(['approve', id], 'carol')).stdout).toContain('warrant');
      const token = (await s.cli(['warrant', id], 'deploy-eu')).stdout.trim();

      const redeemed = await redeem(s, token, {
        resource: 'secrets/payments',
        permission: 'rotate',
        env: 'prod',
        target: 'eu',
      });
      expect(redeemed.code, redeemed.stderr).toBe(0);
      const receipt = redeemed.stdout.trim().split('\n').at(-1) as string;

      // Any JWT library verifies both tokens offline against the published JWKS.
      const jwks = createLocalJWKSet((await s.http('GET', '/.well-known/jwks.json')).body);
      const w = await jwtVerify(token, jwks, { typ: 'warrant+jwt' });
      expect(w.payload).toMatchObject({
        request_id: id,
        environment: 'prod',
        max_uses: 1,
        targets: ['eu'],
      });
      expect((w.payload.approvals as string[]).length).toBe(2);
      const r = await jwtVerify(receipt, jwks, { typ: 'receipt+jwt' });
      expect(r.payload).toMatchObject({
        request_id: id,
        use: 1,
        executor: 'deploy-eu',
        action: { target: 'eu' },
      });

      const shown = await s.cli(['--json', 'request', 'show', id], 'audra');
      expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'exhausted', approvals: 2 });
    });
  });

  describe('when an approver decides on their own request', () => {
    it('refuses with SEPARATION_OF_DUTIES and records nothing', async () => {
      const id = await createRequest(s, { requester: 'bob' });
      const out = await s.cli(['approve', id], 'bob');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('SEPARATION_OF_DUTIES');
      const shown = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
      expect(shown.body).toMatchObject({ state: 'pending', approvals: 0, decisions: [] });
      expect((await loggedEvents(s, id)).map((e) => e.type)).toEqual(['request.created']);
    });
  });

  describe('when a prod request is approved', () => {
    it('needs two distinct approvers', async () => {
      const id = await createRequest(s, { env: 'prod' });
      expect((await s.cli(['approve', id], 'bob')).code).toBe(0);
      const again = await s.cli(['approve', id], 'bob');
      expect(again.stderr).toContain('DUPLICATE_APPROVER');
      const pending = await s.http('GET', `/v1/requests/${id}`, { as: 'audra' });
      expect(pending.body).toMatchObject({ state: 'pending', approvals: 1, requiredApprovals: 2 });
      expect((await s.cli(['approve', id], 'carol')).code).toBe(0);
      expect((await s.http('GET', `/v1/requests/${id}`, { as: 'audra' })).body.state).toBe(
        'approved',
      );
    });

    it('ends at the first denial', async () => {
      const id = await createRequest(s, { env: 'prod' });
      expect((await s.cli(['deny', id, '--reason', 'not now'], 'carol')).code).toBe(0);
      expect((await s.cli(['approve', id], 'bob')).stderr).toContain('REQUEST_NOT_PENDING');
      expect((await s.http('GET', `/v1/requests/${id}/warrant`, { as: 'admin' })).body.code).toBe(
        'WARRANT_NOT_ISSUED',
      );
    });
  });

  describe('when the warrant is bound to pipeline A', () => {
    it('is refused to pipeline B with EXECUTOR_MISMATCH and exit code 3', async () => {
      const { token, requestId } = await issueWarrant(s, { executor: 'deploy-eu' });
      const out = await redeem(s, token, { as: 'deploy-us' });
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('EXECUTOR_MISMATCH');
      const redemptions = (await loggedEvents(s, requestId)).filter((e) =>
        e.type.startsWith('redemption.'),
      );
      expect(redemptions.map((e) => [e.type, e.data.code])).toEqual([
        ['redemption.denied', 'EXECUTOR_MISMATCH'],
      ]);
      const warrant = await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'audra' });
      expect(warrant.body.uses).toBe(0);
      expect((await redeem(s, token)).code).toBe(0);
    });
  });

  describe('when an agent is approved for two tables', () => {
    it('cannot touch a third table', async () => {
      const { token } = await issueWarrant(s, {
        maxUses: 5,
        scope: [
          { resource: 'db/orders', permissions: ['read'] },
          { resource: 'db/invoices', permissions: ['read'] },
        ],
      });
      expect((await redeem(s, token)).code).toBe(0);
      expect((await redeem(s, token, { resource: 'db/invoices' })).code).toBe(0);
      const third = await redeem(s, token, { resource: 'db/customers' });
      expect(third.code).toBe(3);
      expect(third.stderr).toContain('SCOPE_EXCEEDED');
      const write = await redeem(s, token, { permission: 'write' });
      expect(write.stderr).toContain('SCOPE_EXCEEDED');
      const otherEnv = await redeem(s, token, { env: 'prod' });
      expect(otherEnv.stderr).toContain('ENVIRONMENT_MISMATCH');
    });
  });

  describe('when a single-use warrant is redeemed twice', () => {
    it('refuses the second with WARRANT_EXHAUSTED', async () => {
      const { token, requestId } = await issueWarrant(s);
      expect((await redeem(s, token)).code).toBe(0);
      const second = await redeem(s, token);
      expect(second.code).toBe(3);
      expect(second.stderr).toContain('WARRANT_EXHAUSTED');
      expect((await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' })).body.state).toBe(
        'exhausted',
      );
    });
  });

  describe('when a warrant is revoked', () => {
    it('refuses redemption with WARRANT_REVOKED', async () => {
      const { token, warrantId, requestId } = await issueWarrant(s, { maxUses: 3 });
      expect(
        (await s.cli(['revoke', warrantId, '--reason', 'compromised runner'], 'alice')).code,
      ).toBe(0);
      const out = await redeem(s, token);
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('WARRANT_REVOKED');
      expect((await s.http('GET', `/v1/requests/${requestId}`, { as: 'audra' })).body.state).toBe(
        'revoked',
      );
    });

    it('may not be revoked by an approver who is not the requester', async () => {
      const { warrantId } = await issueWarrant(s);
      const out = await s.cli(['revoke', warrantId, '--reason', 'x'], 'carol');
      expect(out.stderr).toContain('FORBIDDEN');
    });
  });

  describe('when the warrant payload is altered', () => {
    it('refuses with SIGNATURE_INVALID', async () => {
      const { token } = await issueWarrant(s);
      const [h, p, sig] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      claims.scope = [{ resource: 'db/customers', permissions: ['read'] }];
      const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
      const out = await redeem(s, forged, { resource: 'db/customers' });
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('SIGNATURE_INVALID');
    });
  });

  describe('when redemptions are denied', () => {
    it('records every denial with its code in the log, without the token', async () => {
      const { token, requestId } = await issueWarrant(s);
      await redeem(s, token, { resource: 'db/customers' });
      const events = await loggedEvents(s, requestId);
      const denied = events.find((e) => e.type === 'redemption.denied');
      expect(denied!.data.code).toBe('SCOPE_EXCEEDED');
      expect(events.map((e) => e.leaf).join('')).not.toContain(token);
      expect(s.logs()).not.toContain(token);
    });
  });

  describe('a warrant after its window', () => {
    it('is refused with WARRANT_EXPIRED once the clock has moved past it', async () => {
      // A server of its own: moving the clock would expire the shared server's warrants.
      const t = await store.start();
      try {
        const { token } = await issueWarrant(t, { maxUses: 2, duration: '2h' });
        expect((await redeem(t, token)).code).toBe(0);
        await t.advanceClock('2h1m');
        const late = await redeem(t, token);
        expect(late.code).toBe(3);
        expect(late.stderr).toContain('WARRANT_EXPIRED');
      } finally {
        await t.stop();
      }
    });
  });
});
