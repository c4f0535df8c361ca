import { afterAll, describe, expect, it } from 'vitest';
import { issueWarrant, rotateAction } from '../helpers/chain.js';
import { fp, fulfil, fulfilOk, receiptFor } from '../helpers/fulfilment.js';
import { later, observe, secretVersion, sightings } from '../helpers/observation.js';
import { findingsOf, issueRotation, reconcileNow, subjectOf } from '../helpers/reconcile.js';
import type { FindingJson } from '../helpers/reconcile.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { serveDuringSuite, type TestServer } from '../helpers/server.js';

type Role = keyof FindingJson['evidence'];
interface Leaf {
  readonly type: string;
  readonly links: { readonly warrant?: string };
  readonly data: Record<string, unknown>;
}

/** Every leaf of the signed log, by index. */
async function leaves(s: TestServer): Promise<Leaf[]> {
  const size = Number((await s.http('GET', '/v1/log/checkpoint')).text.split('\n')[1]);
  const r = await s.http('GET', `/v1/log/entries?start=0&end=${size}`, { as: 'audra' });
  return (r.body.entries as Array<{ leaf: string }>).map((e) => JSON.parse(e.leaf) as Leaf);
}

/** The event types the proof of `f` points at, by role, and where its own event sits. */
async function citedTypes(s: TestServer, f: FindingJson) {
  const log = await leaves(s);
  const proof = f.evidence;
  const own = log.findIndex((l) => l.type === 'finding.raised' && l.data.id === f.id);
  const types = (role: Role) => [...new Set(proof[role].map((i) => log[i]?.type))];
  return {
    log,
    own,
    ownEvidence: log[own]?.data.evidence,
    types: {
      warrants: types('warrants'),
      redemptions: types('redemptions'),
      fulfilments: types('fulfilments'),
      observations: types('observations'),
    },
  };
}

/** The end of the warrant's window (a --duration window starts at issue). */
async function windowEnd(s: TestServer, requestId: string): Promise<string> {
  const w = await s.http('GET', `/v1/requests/${requestId}/warrant`, { as: 'admin' });
  return w.body.notAfter as string;
}

/**
 * An 8-hour rotation over eu, us and ap: all three are seen on the old secret, eu
 * rotates and is seen on the new one, ap's executor redeems but never rotates.
 */
async function rotationLeftBehind(s: TestServer) {
  const targets = ['eu', 'us', 'ap'];
  const { token, requestId, warrantId, subject } = await issueRotation(s, 'payments', targets, {
    duration: '8h',
  });
  const notAfter = await windowEnd(s, requestId);
  const [OLD, NEW] = [fp('payments-v1'), fp('payments-v2')];
  await observe(s, sightings(subject, targets, secretVersion(OLD), await later(s)));
  const eu = await receiptFor(s, token, rotateAction('payments', 'eu'));
  await receiptFor(s, token, rotateAction('payments', 'ap'));
  await fulfilOk(s, { receipt: eu, target: 'eu', outcome: 'success', fingerprint: NEW });
  const seenAp = async (advance: string) =>
    observe(s, sightings(subject, ['ap'], secretVersion(OLD), await later(s, advance)));
  await observe(s, sightings(subject, ['eu'], secretVersion(NEW), await later(s)));
  return { subject, warrantId, notAfter, seenAp };
}

describeOnEveryStore('findings and their proof against a real server', (store) => {
  let s: TestServer;
  serveDuringSuite(store, (started) => (s = started));

  describe('when one cluster of an 8-hour rotation stays on the old secret', () => {
    it('raises UNFULFILLED_TARGET 15 minutes after another cluster was seen rotated, inside the window', async () => {
      const { subject, warrantId, notAfter, seenAp } = await rotationLeftBehind(s);
      await seenAp('14m');
      await reconcileNow(s);
      expect(await findingsOf(s, subject)).toEqual([]);

      await seenAp('2m');
      await reconcileNow(s);
      const found = await findingsOf(s, subject);
      expect(found.map((f) => [f.kind, f.target, f.state])).toEqual([
        ['UNFULFILLED_TARGET', 'ap', 'open'],
      ]);
      expect(Date.parse(found[0]!.raisedAt)).toBeLessThan(Date.parse(notAfter));

      const { log, own, ownEvidence, types } = await citedTypes(s, found[0]!);
      expect(types).toEqual({
        warrants: ['warrant.issued'],
        redemptions: ['redemption.allowed'],
        fulfilments: ['fulfilment.recorded'],
        observations: ['observation.recorded'],
      });
      const proof = found[0]!.evidence;
      expect(log[proof.warrants[0]!]?.links.warrant).toBe(warrantId);
      // The redemption cited is ap's, not eu's.
      const redeemed = log[proof.redemptions[0]!]?.data.receipt as { action: { target: string } };
      expect(proof.redemptions).toHaveLength(1);
      expect(redeemed.action.target).toBe('ap');
      // The log entry of the finding carries the same proof, and every cited event precedes it.
      expect(ownEvidence).toEqual(proof);
      expect(Math.max(...found[0]!.logIndices)).toBeLessThan(own);
    });
  });

  describe('when an attacker puts the old secret back after a confirmed rotation', () => {
    it('reports one UNAPPROVED_CHANGE, not also FULFILMENT_MISMATCH', async () => {
      const { token, subject } = await issueRotation(s, 'payments', ['eu']);
      const version = async (fingerprint: string) =>
        observe(s, sightings(subject, ['eu'], secretVersion(fingerprint), await later(s)));
      await version(fp('old'));
      const receipt = await receiptFor(s, token, rotateAction('payments', 'eu'));
      await fulfil(s, { receipt, target: 'eu', outcome: 'success', fingerprint: fp('new') });
      await version(fp('new'));
      await version(fp('old'));
      await reconcileNow(s);
      const found = await findingsOf(s, subject);
      expect(found.map((f) => f.kind)).toEqual(['UNAPPROVED_CHANGE']);
      const { types } = await citedTypes(s, found[0]!);
      expect(types.fulfilments).toEqual(['fulfilment.recorded']);
      expect(types.observations).toEqual(['observation.recorded']);
    });
  });

  describe('when a stolen warrant is presented again and again by the wrong executor', () => {
    it('raises REDEMPTION_ABUSE citing the refusals and the warrant by log index', async () => {
      const { token, requestId, warrantId } = await issueWarrant(s);
      const subject = await subjectOf(s, requestId);
      const body = {
        warrant: token,
        action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
      };
      for (let i = 0; i < 3; i++) {
        expect((await s.http('POST', '/v1/redemptions', { as: 'deploy-us', body })).status).toBe(
          403,
        );
      }
      await reconcileNow(s);
      const found = await findingsOf(s, subject);
      expect(found.map((f) => f.kind)).toEqual(['REDEMPTION_ABUSE']);
      const { log, types } = await citedTypes(s, found[0]!);
      expect(types).toMatchObject({
        warrants: ['warrant.issued'],
        redemptions: ['redemption.denied'],
      });
      const proof = found[0]!.evidence;
      expect(proof.redemptions).toHaveLength(3);
      expect(proof.redemptions.every((i) => log[i]?.links.warrant === warrantId)).toBe(true);
    });
  });

  describe('when the server is configured with driftGrace: 5m', () => {
    let own: TestServer;
    afterAll(async () => {
      await own?.stop();
    });

    it('raises the lagging cluster after 6 minutes', async () => {
      own = await store.start({ config: { driftGrace: '5m' } });
      const s = own;
      const { subject, seenAp } = await rotationLeftBehind(s);
      await seenAp('4m');
      await reconcileNow(s);
      expect(await findingsOf(s, subject)).toEqual([]);
      await seenAp('2m');
      await reconcileNow(s);
      expect((await findingsOf(s, subject)).map((f) => [f.kind, f.target])).toEqual([
        ['UNFULFILLED_TARGET', 'ap'],
      ]);
    });
  });
});
