import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../helpers/db.js';
import { brokeredWarrant as brokeredWarrantOn, startTicketsBroker } from '../helpers/broker.js';
import { findingsOf, reconcileNow } from '../helpers/reconcile.js';
import type { TestServer } from '../helpers/server.js';
import type { Receiver } from '../connectors/webhook-receiver.js';

/**
 * countersign as the credential broker for a system it has no connector for: a
 * webhook receiver that verifies every signed call against the server's public JWKS,
 * mints an API token at redemption and forgets it when the warrant is revoked.
 */

const HOOK_TOKEN = `hook-${randomBytes(18).toString('base64url')}`;
const RESOURCE = 'webhook/tickets/queue/ops';
let s: TestServer;
let receiver: Receiver;

beforeAll(async () => {
  ({ server: s, receiver } = await startTicketsBroker(HOOK_TOKEN, { observe: true }));
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await receiver?.stop();
});

/** Each live credential, as the target would report it: minted for its grant, on its scope. */
function liveObservations(): unknown[] {
  return [...receiver.grants.values()].flatMap((g) =>
    g.scope.flatMap((e) =>
      e.permissions.map((permission) => ({
        subject: g.subject,
        role: g.handle,
        grantId: g.grantId,
        resource: e.resource,
        permission,
        validUntil: g.notAfter,
        managed: true,
      })),
    ),
  );
}

/** A token someone made by hand in the ticket system, with read on the ops queue. */
const HAND_MADE = {
  subject: null,
  role: 'hand-made',
  resource: RESOURCE,
  permission: 'read',
  validUntil: null,
  managed: false,
};

const observationsOf = (subject: string) =>
  query<{ fact: string }>(
    s.dataDir,
    "select fact from observations where subject = ? and target = 'tickets' order by observed_at",
    subject,
  ).map((o) => JSON.parse(o.fact) as { resource: string; permission: string; present: boolean });

const brokeredWarrant = () =>
  brokeredWarrantOn(s, {
    connector: { name: 'tickets', scope: [{ resource: RESOURCE, permissions: ['read'] }] },
  });

const redeem = (token: string) =>
  s.http('POST', '/v1/redemptions', {
    as: 'deploy-eu',
    body: {
      warrant: token,
      action: { resource: RESOURCE, permission: 'read', environment: 'staging', target: 'tickets' },
    },
  });

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a brokered grant through a webhook connector', () => {
  it('is minted by the receiver at redemption, shown once, and revoked with the warrant', async () => {
    const { requestId, token, warrantId, subject } = await brokeredWarrant();
    const r = await redeem(token);
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const { credential, receipt } = r.body as {
      credential: Record<string, string>;
      receipt: string;
    };
    const [grantCall] = receiver.calls();
    expect(grantCall).toMatchObject({
      op: 'grant',
      connector: 'tickets',
      subject,
      scope: [{ resource: RESOURCE, permissions: ['read'] }],
    });
    const grantId = grantCall?.grantId ?? '';
    const minted = receiver.live.get(grantId) ?? '';
    expect(credential).toEqual({ TICKETS_TOKEN: minted });
    expect(decodeJwt(receipt)).toMatchObject({
      grant: { connector: 'tickets', handle: grantId },
    });
    expect(receipt).not.toContain(minted);

    // The credential and the hook's token are nowhere countersign writes.
    const leaves = query<{ leaf: string }>(s.dataDir, 'select leaf from events');
    for (const secret of [minted, HOOK_TOKEN]) {
      expect(leaves.some((e) => e.leaf.includes(secret))).toBe(false);
      expect(s.logs()).not.toContain(secret);
    }

    const revoked = await s.http('POST', `/v1/warrants/${warrantId}/revocation`, {
      as: 'alice',
      body: { reason: 'the queue is handed to a person' },
    });
    expect(revoked.status, revoked.text).toBe(200);
    await until(() => !receiver.live.has(grantId), 'the revoke call');
    const revokeCall = receiver.calls().find((c) => c.op === 'revoke');
    expect(revokeCall).toMatchObject({ grantId, handle: grantId, connector: 'tickets' });

    // Every call the server made verified under its JWKS and carried the hook's token.
    const posts = receiver.received.filter((c) => c.method === 'POST');
    expect(posts.map((c) => c.refused)).toEqual([null, null]);
    expect(receiver.received.map((c) => c.headers.authorization)).toEqual(
      receiver.received.map(() => `Bearer ${HOOK_TOKEN}`),
    );
    expect(posts.map((c) => c.headers['idempotency-key'])).toEqual([
      `${grantId}:grant`,
      `${grantId}:revoke`,
    ]);
    await until(
      () =>
        query(s.dataDir, 'select 1 from fulfilments where request_id = ?', requestId).length === 2,
      'the revocation report',
    );
    expect(
      query<{ phase: string; outcome: string; target: string }>(
        s.dataDir,
        'select phase, outcome, target from fulfilments where request_id = ? order by at, phase',
        requestId,
      ),
    ).toEqual([
      { phase: 'apply', outcome: 'success', target: 'tickets' },
      { phase: 'revoke', outcome: 'success', target: 'tickets' },
    ]);
  }, 60_000);

  it('observes the target: a minted token under its NHI, a hand-made one as UNAPPROVED_CHANGE', async () => {
    receiver.observations = () => ({ observations: [...liveObservations(), HAND_MADE] });
    const { token, subject } = await brokeredWarrant();
    expect((await redeem(token)).status).toBe(200);
    await until(() => observationsOf(subject).length > 0, 'the minted token observed');
    const discovered = 'dbrole:tickets/hand-made';
    await until(() => observationsOf(discovered).length > 0, 'the hand-made token observed');
    expect(observationsOf(subject)).toEqual([
      { kind: 'grant', resource: RESOURCE, permission: 'read', present: true },
    ]);
    await reconcileNow(s);
    const kinds = (await findingsOf(s, subject)).map((f) => f.kind);
    expect(kinds).not.toContain('UNAPPROVED_CHANGE');
    const found = (await findingsOf(s, discovered)).filter((f) => f.kind === 'UNAPPROVED_CHANGE');
    expect(found.map((f) => [f.state, f.target])).toEqual([['open', 'tickets']]);
  }, 60_000);
});
