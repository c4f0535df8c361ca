import { describe, expect, it } from 'vitest';
import { generateReconcileInput } from '../fixtures/reconcile-input.js';
import { EVIDENCE_ROLES, FINDING_KINDS } from '../../src/reconcile/finding.js';
import type { ReconcileInput, RedemptionRecord } from '../../src/reconcile/input.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { denial, fp, fulfilment, grant, held, observation, version } from './builders.js';
import { HOUR, iso, MINUTE, when } from './time.js';
import { input, keys } from './helpers.js';

const SUBJECT = 'svc:payments-api';
const redeemed = (id: string, warrantId: string, target: string | null): RedemptionRecord => ({
  id,
  warrantId,
  receiptId: `rcp_${warrantId}`,
  target,
  at: iso(MINUTE),
});

/** Every record id of the input, by the role a finding may cite it in. */
const idsOf = (i: ReconcileInput) => ({
  warrants: new Set(i.grants.map((g) => g.warrantId)),
  redemptions: new Set([...i.redemptions, ...i.denials].map((r) => r.id)),
  fulfilments: new Set<string>(i.fulfilments.map((f) => f.id)),
  observations: new Set<string>(i.observations.map((o) => o.id)),
});

describe('reconcile', () => {
  describe('when findings of every kind are raised on realistic state', () => {
    const runs = [1, 2, 3, 4].map((seed) => generateReconcileInput(80, 600, seed));

    it('gives every finding evidence, and cites only records that exist', () => {
      const kinds = new Set<string>();
      for (const run of runs) {
        const known = idsOf(run);
        for (const f of reconcile(run).raise) {
          kinds.add(f.kind);
          expect(
            EVIDENCE_ROLES.some((r) => f.evidence[r].length > 0),
            f.key,
          ).toBe(true);
          for (const role of EVIDENCE_ROLES) {
            for (const id of f.evidence[role])
              expect(known[role].has(id), `${f.key} ${id}`).toBe(true);
          }
        }
      }
      // The property above is only worth something if every kind was put to it.
      expect([...kinds].sort()).toEqual([...FINDING_KINDS].sort());
    });

    it('cites the warrant of every finding that names one', () => {
      for (const run of runs) {
        for (const f of reconcile(run).raise) {
          if (f.warrantId !== null && f.kind !== 'REDEMPTION_ABUSE') {
            expect(f.evidence.warrants, f.key).toContain(f.warrantId);
          }
        }
      }
    });
  });

  describe('when a target of a rotation is still unfulfilled at the end of its window', () => {
    it('cites the warrant, the redemptions for that target and the failed attempts there', () => {
      const g = grant({ warrantId: 'wrt_r', action: 'rotate', targets: ['eu', 'us'] });
      const { raise } = reconcile(
        input({
          now: when(2 * HOUR),
          grants: [g],
          redemptions: [redeemed('ev_7', 'wrt_r', 'eu'), redeemed('ev_8', 'wrt_r', 'us')],
          fulfilments: [
            fulfilment({ id: 'ful_eu', warrantId: 'wrt_r', target: 'eu', fingerprint: fp('n') }),
            fulfilment({ id: 'ful_us_x', warrantId: 'wrt_r', target: 'us', outcome: 'failure' }),
          ],
        }),
      );
      expect(keys(raise)).toEqual(['UNFULFILLED_TARGET|wrt_r|us']);
      expect(raise[0]?.evidence).toEqual({
        warrants: ['wrt_r'],
        redemptions: ['ev_8'],
        fulfilments: ['ful_us_x'],
        observations: [],
      });
    });
  });

  describe('when an executor claims a version the collectors never see', () => {
    it('cites the redemption whose receipt the claim was made on', () => {
      const g = grant({ warrantId: 'wrt_r', action: 'rotate', notAfter: iso(8 * HOUR) });
      const { raise } = reconcile(
        input({
          now: when(HOUR),
          grants: [g],
          redemptions: [redeemed('ev_3', 'wrt_r', 'eu')],
          fulfilments: [
            fulfilment({ id: 'ful_1', warrantId: 'wrt_r', target: 'eu', fingerprint: fp('v1') }),
          ],
          observations: [observation('o1', SUBJECT, 'eu', 20 * MINUTE, version(fp('v0')))],
        }),
      );
      expect(raise.map((f) => [f.kind, f.evidence.redemptions])).toEqual([
        ['FULFILMENT_MISMATCH', ['ev_3']],
      ]);
    });
  });

  describe('when an attacker changes a secret after its rotation was confirmed', () => {
    const g = grant({ warrantId: 'wrt_r', action: 'rotate', notAfter: iso(8 * HOUR) });
    const claim = fulfilment({
      id: 'ful_1',
      warrantId: 'wrt_r',
      target: 'eu',
      fingerprint: fp('v1'),
      atMs: 10 * MINUTE,
    });
    const run = (later: string) =>
      reconcile(
        input({
          now: when(HOUR),
          grants: [g],
          fulfilments: [claim],
          observations: [
            observation('o0', SUBJECT, 'eu', 0, version(fp('v0'))),
            observation('o1', SUBJECT, 'eu', 15 * MINUTE, version(fp('v1'))),
            observation('o2', SUBJECT, 'eu', 30 * MINUTE, version(later)),
          ],
        }),
      ).raise;

    it('reports a rogue version once, as UNAPPROVED_CHANGE, never also FULFILMENT_MISMATCH', () => {
      const raised = run(fp('rogue'));
      expect(keys(raised)).toEqual([`UNAPPROVED_CHANGE|${SUBJECT}|eu|${fp('rogue')}`]);
      expect(raised[0]?.evidence).toEqual({
        warrants: ['wrt_r'],
        redemptions: [],
        fulfilments: ['ful_1'],
        observations: ['o1', 'o2'],
      });
    });

    it('reports putting the replaced secret back as UNAPPROVED_CHANGE: that rotation does not explain it', () => {
      expect(keys(run(fp('v0')))).toEqual([`UNAPPROVED_CHANGE|${SUBJECT}|eu|${fp('v0')}`]);
    });
  });

  describe('when grants are observed beyond what was approved', () => {
    it('cites the warrants whose scopes the grant was judged against', () => {
      const g = grant({ warrantId: 'wrt_g', subject: 'agent:bot' });
      const { raise } = reconcile(
        input({
          now: when(0),
          grants: [g],
          observations: [observation('o1', 'agent:bot', 'eu', 0, held('db/*', 'read'))],
        }),
      );
      expect(raise.map((f) => [f.kind, f.evidence.warrants, f.evidence.observations])).toEqual([
        ['SCOPE_EXCEEDED_OBSERVED', ['wrt_g'], ['o1']],
      ]);
    });
  });

  describe('when an unknown warrant is refused again and again', () => {
    it('cites the denials alone', () => {
      const denials = ['d1', 'd2', 'd3'].map((id, i) => denial(id, 'wrt_gone', i));
      const { raise } = reconcile(input({ now: when(0), denials }));
      expect(raise[0]?.evidence).toEqual({
        warrants: [],
        redemptions: ['d1', 'd2', 'd3'],
        fulfilments: [],
        observations: [],
      });
    });
  });
});
