import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/observation.js';
import type { ReconcileInput, RedemptionRecord } from '../../src/reconcile/input.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { fp, fulfilment, grant, observation, version } from './builders.js';
import { HOUR, iso, MINUTE, when } from './time.js';
import { input, keys, recorded } from './helpers.js';

const SUBJECT = 'svc:payments-api';
const [OLD, NEW] = [fp('old'), fp('new')];
const seen = (id: string, target: string, ms: number, fingerprint: string): Observation =>
  observation(id, SUBJECT, target, ms, version(fingerprint));
const redeemed = (id: string, target: string): RedemptionRecord => ({
  id,
  warrantId: 'wrt_rot',
  receiptId: `rcp_${target}`,
  target,
  at: iso(5 * MINUTE),
});

// A rotation approved for 8 hours across three clusters. eu and us rotate at once
// and are seen on the new version at minute 12; ap's executor never does.
const rotation = grant({
  warrantId: 'wrt_rot',
  action: 'rotate',
  scope: [{ resource: 'secret/payments-db', permissions: ['rotate'] }],
  targets: ['eu', 'us', 'ap'],
  notAfter: iso(8 * HOUR),
});
const rotated = (target: string, atMs: number) =>
  fulfilment({ id: `ful_${target}`, warrantId: 'wrt_rot', target, fingerprint: NEW, atMs });
const base: ReconcileInput = input({
  now: when(31 * MINUTE),
  grants: [rotation],
  redemptions: ['eu', 'us', 'ap'].map((t) => redeemed(`ev_red_${t}`, t)),
  fulfilments: [rotated('eu', 10 * MINUTE), rotated('us', 11 * MINUTE)],
  observations: [
    ...['eu', 'us', 'ap'].map((t) => seen(`obs_${t}_0`, t, -MINUTE, OLD)),
    seen('obs_eu_1', 'eu', 12 * MINUTE, NEW),
    seen('obs_us_1', 'us', 13 * MINUTE, NEW),
    seen('obs_ap_1', 'ap', 20 * MINUTE, OLD),
    seen('obs_ap_2', 'ap', 30 * MINUTE, OLD),
  ],
});
const KEY = 'UNFULFILLED_TARGET|wrt_rot|ap';

describe('reconcile', () => {
  describe('when one cluster of an 8-hour rotation is left on the old secret', () => {
    it('raises UNFULFILLED_TARGET for it 15 minutes after another cluster was seen rotated', () => {
      const { raise } = reconcile(base);
      expect(keys(raise)).toEqual([KEY]);
      expect(raise[0]?.detail).toContain('ap was still observed on the old version');
    });

    it('cites the warrant, the redemption for ap, the confirming claim and the stale observations', () => {
      expect(reconcile(base).raise[0]?.evidence).toEqual({
        warrants: ['wrt_rot'],
        redemptions: ['ev_red_ap'],
        fulfilments: ['ful_eu'],
        observations: ['obs_eu_1', 'obs_ap_0', 'obs_ap_2'],
      });
    });

    it('waits out the grace: nothing while the last sighting of ap is within 15 minutes', () => {
      const early = base.observations.filter((o) => o.id !== 'obs_ap_2');
      expect(reconcile({ ...base, observations: early }).raise).toEqual([]);
      expect(reconcile({ ...base, now: when(26 * MINUTE) }).raise).toEqual([]);
    });

    it('honours a longer configured grace', () => {
      expect(reconcile({ ...base, driftGraceMs: 30 * MINUTE }).raise).toEqual([]);
      expect(keys(reconcile({ ...base, driftGraceMs: 5 * MINUTE }).raise)).toEqual([KEY]);
    });

    it('raises it once: the end of the window does not raise it again', () => {
      const existing = recorded(reconcile(base).raise);
      const later = reconcile({ ...base, now: when(9 * HOUR), existing });
      expect(later).toEqual({ raise: [], reopen: [], resolve: [] });
    });

    it('resolves it when ap reports its rotation', () => {
      const existing = recorded(reconcile(base).raise);
      const r = reconcile({
        ...base,
        existing,
        fulfilments: [...base.fulfilments, rotated('ap', 40 * MINUTE)],
      });
      expect(keys(r.resolve)).toEqual([KEY]);
    });
  });

  describe('when no cluster is confirmed on the new version yet', () => {
    it('raises no drift: a claim the collectors contradict is a mismatch, not a confirmation', () => {
      const observations = base.observations.map((o) =>
        o.id === 'obs_eu_1' || o.id === 'obs_us_1' ? { ...o, fact: version(OLD) } : o,
      );
      const r = reconcile({ ...base, observations });
      expect(keys(r.raise).sort()).toEqual([
        'FULFILMENT_MISMATCH|ful_eu',
        'FULFILMENT_MISMATCH|ful_us',
      ]);
    });
  });

  describe('when the lagging cluster already shows a new version of its own', () => {
    it('does not call it drift', () => {
      const observations = [...base.observations, seen('obs_ap_3', 'ap', 30 * MINUTE + 1, fp('x'))];
      expect(keys(reconcile({ ...base, observations }).raise)).not.toContain(KEY);
    });
  });

  describe('when each cluster has a secret of its own', () => {
    it('still sees ap unchanged since the rotation was confirmed elsewhere', () => {
      const AP_OLD = fp('ap-old');
      const observations = base.observations.map((o) =>
        o.target === 'ap' ? { ...o, fact: version(AP_OLD) } : o,
      );
      expect(keys(reconcile({ ...base, observations }).raise)).toEqual([KEY]);
    });
  });

  describe('when the warrant was revoked before the grace ran out', () => {
    it('raises nothing: the approval was withdrawn', () => {
      const revoked = { ...rotation, revokedAt: iso(20 * MINUTE) };
      expect(reconcile({ ...base, grants: [revoked] }).raise).toEqual([]);
    });
  });

  describe('when the warrant grants access rather than rotating a secret', () => {
    it('has no versions to drift from', () => {
      const access = { ...rotation, action: 'grant' as const };
      expect(keys(reconcile({ ...base, grants: [access] }).raise)).not.toContain(KEY);
    });
  });
});
