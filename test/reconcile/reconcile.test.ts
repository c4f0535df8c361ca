import { describe, expect, it } from 'vitest';
import type { Fulfilment } from '../../src/fulfilment/fulfilment.js';
import type { Observation } from '../../src/observation/observation.js';
import type { ApprovedGrant, ReconcileInput } from '../../src/reconcile/input.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { fp, fulfilment, grant, held, observation, version } from './builders.js';
import { HOUR, iso, MINUTE, when } from './time.js';
import { input, keys, recorded } from './helpers.js';

describe('reconcile', () => {
  describe('when a rotation approved for eu, us and ap was fulfilled only in eu and us', () => {
    const [F, OLD, SUBJECT] = [fp('new'), fp('old'), 'svc:payments-api'];
    const rotation = grant({
      warrantId: 'wrt_rot',
      action: 'rotate',
      scope: [{ resource: 'secret/payments-db', permissions: ['rotate'] }],
      targets: ['eu', 'us', 'ap'],
    });
    const claimed = (target: string, atMs: number): Fulfilment =>
      fulfilment({ id: `ful_${target}`, warrantId: 'wrt_rot', target, fingerprint: F, atMs });
    const seen = (id: string, target: string, ms: number, fingerprint: string): Observation =>
      observation(id, SUBJECT, target, ms, version(fingerprint));
    const first: ReconcileInput = input({
      now: when(2 * HOUR),
      grants: [rotation],
      fulfilments: [claimed('eu', 10 * MINUTE), claimed('us', 12 * MINUTE)],
      observations: [
        ...['eu', 'us', 'ap'].map((t) => seen(`obs_${t}_0`, t, -HOUR, OLD)),
        seen('obs_eu_1', 'eu', 20 * MINUTE, F),
        seen('obs_us_1', 'us', 20 * MINUTE, F),
        seen('obs_ap_1', 'ap', 20 * MINUTE, OLD),
      ],
    });

    it('raises nothing while the window is still open', () => {
      expect(reconcile({ ...first, now: when(30 * MINUTE) }).raise).toEqual([]);
    });

    it('raises exactly one UNFULFILLED_TARGET, for ap, after the deadline', () => {
      const { raise } = reconcile(first);
      expect(keys(raise)).toEqual(['UNFULFILLED_TARGET|wrt_rot|ap']);
      expect(raise[0]).toMatchObject({ warrantId: 'wrt_rot', target: 'ap', subject: SUBJECT });
      expect(raise[0]?.requestId).toBe(rotation.requestId);
    });

    describe('when ap then claims F while the newest observation still shows the old version', () => {
      const existing = recorded(reconcile(first).raise);
      const second: ReconcileInput = {
        ...first,
        now: when(3 * HOUR),
        existing,
        fulfilments: [...first.fulfilments, claimed('ap', 2 * HOUR + 10 * MINUTE)],
        observations: [...first.observations, seen('obs_ap_2', 'ap', 2 * HOUR + 15 * MINUTE, OLD)],
      };

      it('raises FULFILMENT_MISMATCH for that fulfilment, citing it, the observation and the warrant', () => {
        const { raise } = reconcile(second);
        expect(keys(raise)).toEqual(['FULFILMENT_MISMATCH|ful_ap']);
        expect(raise[0]?.evidence).toEqual({
          warrants: ['wrt_rot'],
          redemptions: [],
          fulfilments: ['ful_ap'],
          observations: ['obs_ap_2'],
        });
      });

      it('resolves the UNFULFILLED_TARGET automatically, since the late success clears it', () => {
        expect(reconcile(second).resolve).toEqual([
          {
            findingId: existing.get('UNFULFILLED_TARGET|wrt_rot|ap')?.id,
            key: 'UNFULFILLED_TARGET|wrt_rot|ap',
            reason: expect.stringMatching(/^condition cleared: fulfilment ful_ap/),
          },
        ]);
      });

      it('resolves the mismatch once a newer observation shows F, a change made after the window', () => {
        const third: ReconcileInput = {
          ...second,
          existing: recorded(reconcile(second).raise, existing),
          observations: [...second.observations, seen('obs_ap_3', 'ap', 2 * HOUR + 40 * MINUTE, F)],
        };
        const { raise, resolve } = reconcile(third);
        // The old version was still seen at 2h15, after the window closed at 1h: the
        // rotation at ap was made outside it, which the late claim does not excuse.
        expect(keys(raise)).toEqual([`UNAPPROVED_CHANGE|${SUBJECT}|ap|${F}`]);
        expect(keys(resolve)).toEqual([
          'UNFULFILLED_TARGET|wrt_rot|ap',
          'FULFILMENT_MISMATCH|ful_ap',
        ]);
      });
    });
  });

  describe('when an agent was granted db/orders and db/invoices for 2 hours', () => {
    const AGENT = 'agent:ops-bot';
    const g = grant({
      warrantId: 'wrt_agent',
      subject: AGENT,
      scope: [
        { resource: 'db/orders', permissions: ['read', 'write'] },
        { resource: 'db/invoices', permissions: ['read'] },
      ],
      notAfter: iso(2 * HOUR),
    });
    const KEY = 'EXPIRED_NOT_REVOKED|wrt_agent|eu';
    const base = { warrantId: 'wrt_agent', subject: AGENT, target: 'eu' };
    const applied = fulfilment({ ...base, id: 'ful_apply', fingerprint: fp('grant') });
    const revoked = fulfilment({ ...base, id: 'ful_revoke', phase: 'revoke', atMs: 3 * HOUR });
    const seen = (id: string, ms: number, present: boolean): Observation[] => [
      observation(`${id}_ow`, AGENT, 'eu', ms, held('db/orders', 'write', present)),
      observation(`${id}_ir`, AGENT, 'eu', ms, held('db/invoices', 'read', present)),
    ];
    const after: ReconcileInput = input({
      now: when(3 * HOUR),
      grants: [g],
      fulfilments: [applied],
      observations: [
        ...seen('obs_during', 30 * MINUTE, true),
        ...seen('obs_after', 150 * MINUTE, true),
      ],
    });

    it('raises nothing during the window', () => {
      expect(reconcile({ ...after, now: when(HOUR) }).raise).toEqual([]);
    });

    describe('when the grant was held before its window opened', () => {
      const early = (ms: number) =>
        keys(
          reconcile({ ...after, now: when(HOUR), observations: seen('obs_early', ms, true) }).raise,
        );

      it('raises UNAPPROVED_CHANGE for each tuple seen before any covering window began', () => {
        expect(early(-30 * MINUTE)).toEqual([
          'UNAPPROVED_CHANGE|agent:ops-bot|eu|db/orders|write',
          'UNAPPROVED_CHANGE|agent:ops-bot|eu|db/invoices|read',
        ]);
      });

      it('allows a minute of clock skew between collector and server', () => {
        expect(early(-30_000)).toEqual([]);
      });
    });

    describe('when it was approved for eu and us but redeemed, applied and seen only in eu', () => {
      const both = { ...g, targets: ['eu', 'us'] };
      const redeemed = {
        id: '7',
        warrantId: 'wrt_agent',
        receiptId: 'rcp_wrt_agent',
        target: 'eu',
        at: iso(10 * MINUTE),
      };
      const ended = (over: Partial<ReconcileInput> = {}) =>
        keys(
          reconcile({
            ...after,
            grants: [both],
            redemptions: [redeemed],
            fulfilments: [applied, revoked],
            observations: [...after.observations, ...seen('obs_gone', 3 * HOUR, false)],
            now: when(4 * HOUR),
            ...over,
          }).raise,
        );

      it('owes no revocation in us, which was never used and can no longer be', () => {
        // us is flagged as never fulfilled, not as a revocation that can never be reported.
        expect(ended()).toEqual(['UNFULFILLED_TARGET|wrt_agent|us']);
      });

      it('owes one in us too once a use was redeemed there', () => {
        const us = { ...redeemed, id: '8', receiptId: 'rcp_us', target: 'us' };
        expect(ended({ redemptions: [redeemed, us] })).toEqual([
          'UNFULFILLED_TARGET|wrt_agent|us',
          'EXPIRED_NOT_REVOKED|wrt_agent|us',
        ]);
      });
    });

    it('raises EXPIRED_NOT_REVOKED when the grant is still observed after the window', () => {
      const { raise } = reconcile(after);
      expect(keys(raise)).toEqual([KEY]);
      expect(raise[0]?.evidence.observations).toEqual(['obs_after_ow', 'obs_after_ir']);
      expect(raise[0]?.detail).toContain('still observed present');
    });

    it('keeps it open while a revoke is reported but the grant is still observed', () => {
      const existing = recorded(reconcile(after).raise);
      const r = reconcile({
        ...after,
        now: when(4 * HOUR),
        existing,
        fulfilments: [applied, revoked],
      });
      expect(r).toEqual({ raise: [], reopen: [], resolve: [] });
    });

    it('resolves it after a revoke fulfilment and an observation that the grant is gone', () => {
      const existing = recorded(reconcile(after).raise);
      const { raise, resolve } = reconcile({
        ...after,
        now: when(4 * HOUR),
        existing,
        fulfilments: [applied, revoked],
        observations: [...after.observations, ...seen('obs_gone', 3 * HOUR + 10 * MINUTE, false)],
      });
      expect(raise).toEqual([]);
      expect(resolve).toEqual([
        {
          findingId: existing.get(KEY)?.id,
          key: KEY,
          reason: expect.stringMatching(/^condition cleared: fulfilment ful_revoke/),
        },
      ]);
    });

    describe('when the grant, revoked and seen gone, is seen present again', () => {
      const gone = {
        ...after,
        now: when(4 * HOUR),
        fulfilments: [applied, revoked],
        observations: [...after.observations, ...seen('obs_gone', 3 * HOUR + 10 * MINUTE, false)],
      };
      const back = {
        ...gone,
        now: when(5 * HOUR),
        observations: [...gone.observations, ...seen('obs_back', 4 * HOUR + 30 * MINUTE, true)],
      };
      const resolvedBy = (automatic: boolean) =>
        new Map([[KEY, { id: 'fnd_enr', state: 'resolved' as const, automatic }]]);

      it('reopens the finding reconciliation resolved, citing the new presence', () => {
        const r = reconcile({ ...back, existing: resolvedBy(true) });
        expect(r.raise).toEqual([]);
        expect(r.resolve).toEqual([]);
        expect(r.reopen).toEqual([
          { findingId: 'fnd_enr', finding: expect.objectContaining({ key: KEY }) },
        ]);
        expect(r.reopen[0]?.finding.evidence.observations).toEqual(['obs_back_ow', 'obs_back_ir']);
        expect(r.reopen[0]?.finding.detail).toContain('still observed present');
      });

      it('leaves alone a finding a person resolved', () => {
        expect(reconcile({ ...back, existing: resolvedBy(false) })).toEqual({
          raise: [],
          reopen: [],
          resolve: [],
        });
      });

      it('reopens nothing while the grant stays gone', () => {
        expect(reconcile({ ...gone, existing: resolvedBy(true) }).reopen).toEqual([]);
      });
    });

    it('raises it when a revocation is reported but nothing after the window shows the grant gone', () => {
      const { raise } = reconcile({ ...after, fulfilments: [applied, revoked], observations: [] });
      expect(keys(raise)).toEqual([KEY]);
      expect(raise[0]?.detail).toContain('no observation after the end shows the grant gone');
    });

    it('raises it without any observation when no revocation is ever reported', () => {
      const { raise } = reconcile({ ...after, observations: [] });
      expect(keys(raise)).toEqual([KEY]);
      expect(raise[0]?.detail).toContain('no revocation was reported');
    });

    it('asks nothing of a warrant revoked before it was used', () => {
      const unused: ApprovedGrant = { ...g, revokedAt: iso(5 * MINUTE) };
      const r = reconcile({ ...after, grants: [unused], fulfilments: [], observations: [] });
      expect(r.raise).toEqual([]);
    });
  });

  describe('when grants are observed that no warrant approved', () => {
    const orders = grant({ warrantId: 'wrt_orders', subject: 'agent:ops-bot' });
    const run = (grants: ApprovedGrant[], observations: Observation[]): string[] =>
      keys(reconcile(input({ now: when(0), grants, observations })).raise).sort();

    it('raises UNAPPROVED_CHANGE for a subject with no grant warrant at that target', () => {
      const found = run(
        [orders],
        [
          observation('o1', 'svc:reports', 'eu', 0, held('db/orders', 'read')),
          observation('o2', 'agent:ops-bot', 'us', 0, held('db/orders', 'read')),
          observation('o3', 'svc:reports', 'eu', 0, held('db/invoices', 'read', false)),
        ],
      );
      expect(found).toEqual([
        'UNAPPROVED_CHANGE|agent:ops-bot|us|db/orders|read',
        'UNAPPROVED_CHANGE|svc:reports|eu|db/orders|read',
      ]);
    });

    it('raises one finding for one observed grant, even after a later warrant covers its target', () => {
      const customers = [observation('o1', 'svc:reports', 'eu', 0, held('db/customers', 'read'))];
      const first = reconcile(input({ now: when(0), observations: customers }));
      expect(keys(first.raise)).toEqual(['UNAPPROVED_CHANGE|svc:reports|eu|db/customers|read']);
      const ordersAtEu = grant({ warrantId: 'wrt_later', subject: 'svc:reports', targets: ['eu'] });
      const later = reconcile(
        input({
          now: when(HOUR),
          grants: [ordersAtEu],
          observations: customers,
          existing: recorded(first.raise),
        }),
      );
      expect(keys(later.raise).filter((k) => k.includes('db/customers'))).toEqual([]);
    });

    it('raises SCOPE_EXCEEDED_OBSERVED for a wildcard db/* grant where only db/orders was approved', () => {
      const { raise } = reconcile(
        input({
          now: when(0),
          grants: [orders],
          observations: [
            observation('o1', 'agent:ops-bot', 'eu', 0, held('db/orders', 'read')),
            observation('o2', 'agent:ops-bot', 'eu', 0, held('db/*', 'read')),
            observation('o3', 'agent:ops-bot', 'eu', 0, held('db/orders', 'write')),
          ],
        }),
      );
      expect(keys(raise).sort()).toEqual([
        'SCOPE_EXCEEDED_OBSERVED|agent:ops-bot|eu|db/*|read',
        'SCOPE_EXCEEDED_OBSERVED|agent:ops-bot|eu|db/orders|write',
      ]);
      const wildcard = raise.find((f) => f.key.includes('db/*'));
      expect(wildcard?.evidence.observations).toEqual(['o2']);
      expect(wildcard?.detail).toBe(
        'read on db/* held by agent:ops-bot at eu was observed, and no approved grant scope covers it',
      );
    });

    it('accepts a grant that a wildcard scope covers at the one target of a warrant naming none', () => {
      const untargeted = {
        ...orders,
        targets: [],
        scope: [{ resource: 'db/*', permissions: ['read'] }],
      };
      const obs = [
        observation('o1', 'agent:ops-bot', 'default', 0, held('db/orders', 'read')),
        observation('o2', 'agent:ops-bot', 'default', 0, held('db/*', 'read')),
      ];
      expect(run([untargeted], obs)).toEqual([]);
    });

    it('approves nothing at a named target with a warrant that names none: it could not be redeemed there', () => {
      const untargeted = { ...orders, targets: [] };
      const obs = [observation('o1', 'agent:ops-bot', 'ap', 0, held('db/orders', 'read'))];
      expect(run([untargeted], obs)).toEqual(['UNAPPROVED_CHANGE|agent:ops-bot|ap|db/orders|read']);
    });

    it('keeps one finding for a grant it raised as exceeding an untargeted scope before 0036', () => {
      const untargeted = { ...orders, targets: [] };
      const seen = [observation('o1', 'agent:ops-bot', 'ap', 0, held('db/orders', 'write'))];
      const existing = new Map([
        [
          'SCOPE_EXCEEDED_OBSERVED|agent:ops-bot|ap|db/orders|write',
          { id: 'fnd_1', state: 'open' as const },
        ],
      ]);
      const r = reconcile(
        input({ now: when(0), grants: [untargeted], observations: seen, existing }),
      );
      expect(r.raise).toEqual([]);
    });

    describe('when a rotation claims a change seen before it was reported', () => {
      const rotation = grant({
        warrantId: 'w_rot',
        action: 'rotate',
        scope: [{ resource: 'secrets/db', permissions: ['rotate'] }],
        notAfter: iso(2 * HOUR),
      });
      const seen = [
        observation('v1', 'svc:payments-api', 'eu', 0, version(fp('a'))),
        observation('v2', 'svc:payments-api', 'eu', MINUTE, version(fp('e'))),
      ];
      const claimed = fulfilment({
        id: 'f_rot',
        warrantId: 'w_rot',
        target: 'eu',
        fingerprint: fp('e'),
        atMs: 12 * MINUTE,
      });
      const redeemedAt = (ms: number) => ({
        id: '41',
        warrantId: 'w_rot',
        receiptId: 'rcp_w_rot',
        target: 'eu',
        at: iso(ms),
      });
      const judge = (redemptionMs: number) =>
        reconcile(
          input({
            now: when(HOUR),
            grants: [rotation],
            fulfilments: [claimed],
            observations: seen,
            redemptions: [redeemedAt(redemptionMs)],
          }),
        );
      const change = `UNAPPROVED_CHANGE|svc:payments-api|eu|${fp('e')}`;

      it('is explained when the use was redeemed before the change was seen', () => {
        expect(keys(judge(MINUTE - 30_000).raise)).toEqual([]);
      });

      it('is explained within a minute of clock skew between collector and server', () => {
        expect(keys(judge(MINUTE + 59_000).raise)).toEqual([]);
      });

      it('is not explained by a rotation approved and redeemed after the change', () => {
        expect(keys(judge(11 * MINUTE).raise)).toEqual([change]);
      });

      it('is not explained when the warrant was revoked while the old version was still seen', () => {
        const revokedEarly = { ...rotation, revokedAt: iso(30_000) };
        const observations = [
          observation('v1', 'svc:payments-api', 'eu', 0, version(fp('a'))),
          observation('v1b', 'svc:payments-api', 'eu', 5 * MINUTE, version(fp('a'))),
          observation('v2', 'svc:payments-api', 'eu', 6 * MINUTE, version(fp('e'))),
        ];
        const judged = (g: typeof rotation) =>
          keys(
            reconcile(
              input({
                now: when(HOUR),
                grants: [g],
                fulfilments: [claimed],
                observations,
                redemptions: [redeemedAt(10_000)],
              }),
            ).raise,
          );
        // Redeemed at 10 s, revoked at 30 s, the old version still there at 5 minutes.
        expect(judged(revokedEarly)).toEqual([change]);
        expect(judged(rotation)).toEqual([]);
      });

      it('stays open when such a late approval arrives after the finding was raised', () => {
        const existing = new Map([[change, { id: 'fnd_1', state: 'open' as const }]]);
        const r = reconcile(
          input({
            now: when(HOUR),
            grants: [rotation],
            fulfilments: [claimed],
            observations: seen,
            redemptions: [redeemedAt(11 * MINUTE)],
            existing,
          }),
        );
        expect(r.resolve).toEqual([]);
      });
    });

    it('raises UNAPPROVED_CHANGE for an unclaimed change of secret version, not for the baseline', () => {
      const obs = [
        observation('v1', 'svc:payments-api', 'eu', 0, version(fp('a'))),
        observation('v2', 'svc:payments-api', 'eu', MINUTE, version(fp('a'))),
        observation('v3', 'svc:payments-api', 'eu', 2 * MINUTE, version(fp('b'))),
      ];
      const { raise } = reconcile(input({ now: when(0), observations: [...obs].reverse() }));
      expect(keys(raise)).toEqual([`UNAPPROVED_CHANGE|svc:payments-api|eu|${fp('b')}`]);
      expect(raise[0]?.evidence.observations).toEqual(['v2', 'v3']);
    });
  });
});
