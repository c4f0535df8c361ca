import { describe, expect, it } from 'vitest';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { fp, fulfilment, grant, held, observation, version } from './builders.js';
import { HOUR, iso, MINUTE, when } from './time.js';
import { input, keys } from './helpers.js';

const SUBJECT = 'svc:payments-api';
const rotation = (warrantId: string, startMs: number) =>
  grant({ warrantId, action: 'rotate', notBefore: iso(startMs), notAfter: iso(startMs + HOUR) });
const claim = (id: string, warrantId: string, fingerprint: string, atMs: number) =>
  fulfilment({ id, warrantId, target: 'eu', fingerprint, atMs });
const seen = (id: string, ms: number, fingerprint: string) =>
  observation(id, SUBJECT, 'eu', ms, version(fingerprint));

describe('reconcile', () => {
  describe('when a secret is rotated twice, each time as approved', () => {
    const base = input({
      now: when(5 * HOUR),
      grants: [rotation('wrt_1', 0), rotation('wrt_2', 2 * HOUR)],
      fulfilments: [
        claim('ful_1', 'wrt_1', fp('v1'), 10 * MINUTE),
        claim('ful_2', 'wrt_2', fp('v2'), 2 * HOUR + 10 * MINUTE),
      ],
      observations: [
        seen('o0', -HOUR, fp('v0')),
        seen('o1', 30 * MINUTE, fp('v1')),
        seen('o2', 3 * HOUR, fp('v2')),
      ],
    });

    it('raises nothing: the second rotation does not make the first look false', () => {
      expect(reconcile(base).raise).toEqual([]);
    });

    it('judges the first claim by what was seen before the second claim', () => {
      const unconfirmed = base.observations.filter((o) => o.id !== 'o1');
      const r = reconcile({
        ...base,
        observations: [...unconfirmed, seen('o1b', 40 * MINUTE, fp('v0'))],
      });
      expect(keys(r.raise)).toEqual(['FULFILMENT_MISMATCH|ful_1']);
    });

    it('reports a return to the replaced version after a confirmed claim once, as UNAPPROVED_CHANGE', () => {
      const r = reconcile({
        ...base,
        observations: [...base.observations, seen('o1b', 40 * MINUTE, fp('v0'))],
      });
      expect(keys(r.raise)).toEqual([`UNAPPROVED_CHANGE|${SUBJECT}|eu|${fp('v0')}`]);
    });
  });

  describe('when a collector sees a rotation before its executor reports it', () => {
    it('resolves the UNAPPROVED_CHANGE once the claim arrives', () => {
      const observations = [seen('o0', 0, fp('v0')), seen('o1', 20 * MINUTE, fp('v1'))];
      const early = reconcile(
        input({ now: when(30 * MINUTE), grants: [rotation('wrt_1', 0)], observations }),
      );
      const key = `UNAPPROVED_CHANGE|${SUBJECT}|eu|${fp('v1')}`;
      expect(keys(early.raise)).toEqual([key]);
      const later = reconcile(
        input({
          now: when(40 * MINUTE),
          grants: [rotation('wrt_1', 0)],
          fulfilments: [claim('ful_1', 'wrt_1', fp('v1'), 35 * MINUTE)],
          observations,
          existing: new Map([[key, { id: 'fnd_1', state: 'acknowledged' }]]),
        }),
      );
      expect(later).toEqual({
        raise: [],
        reopen: [],
        resolve: [
          {
            findingId: 'fnd_1',
            key,
            reason: 'condition cleared: fulfilment ful_1 claims the change',
          },
        ],
      });
    });
  });

  describe('when a grant fulfilment carries a fingerprint', () => {
    it('does not read it as a claimed secret version', () => {
      const g = grant({ warrantId: 'wrt_g', notAfter: iso(HOUR) });
      const r = reconcile(
        input({
          now: when(30 * MINUTE),
          grants: [g],
          fulfilments: [
            fulfilment({ id: 'ful_g', warrantId: 'wrt_g', target: 'eu', fingerprint: fp('grant') }),
          ],
          observations: [seen('o0', 0, fp('v0')), seen('o1', 20 * MINUTE, fp('v0'))],
        }),
      );
      expect(r.raise).toEqual([]);
    });
  });

  describe('when an open finding is already resolved', () => {
    it('does not resolve it again', () => {
      const g = grant({ warrantId: 'wrt_g', notAfter: iso(HOUR) });
      const r = reconcile(
        input({
          now: when(2 * HOUR),
          grants: [g],
          fulfilments: [
            fulfilment({ id: 'ful_g', warrantId: 'wrt_g', target: 'eu', fingerprint: fp('g') }),
          ],
          observations: [
            observation('o1', SUBJECT, 'eu', 90 * MINUTE, held('db/orders', 'read', false)),
          ],
          existing: new Map([['UNFULFILLED_TARGET|wrt_g|eu', { id: 'fnd_1', state: 'resolved' }]]),
        }),
      );
      expect(r.resolve).toEqual([]);
      expect(keys(r.raise)).toEqual(['EXPIRED_NOT_REVOKED|wrt_g|eu']);
    });
  });

  describe('when a warrant names no target', () => {
    // Redemption refuses a named target for it and fulfilment accepts only `default`.
    const untargeted = grant({ warrantId: 'wrt_u', subject: 'agent:u', targets: [] });
    const applied = fulfilment({
      id: 'ful_u',
      warrantId: 'wrt_u',
      subject: 'agent:u',
      target: 'default',
      fingerprint: fp('grant'),
    });
    const revoked = fulfilment({
      id: 'rev_u',
      warrantId: 'wrt_u',
      subject: 'agent:u',
      target: 'default',
      phase: 'revoke',
      atMs: HOUR + MINUTE,
    });
    const at = (id: string, target: string, ms: number, present: boolean) =>
      observation(id, 'agent:u', target, ms, held('db/orders', 'read', present));
    const after = (observations: ReturnType<typeof at>[]) =>
      reconcile(
        input({
          now: when(2 * HOUR),
          grants: [untargeted],
          fulfilments: [applied, revoked],
          observations,
        }),
      );

    it('settles its exception by the grant seen gone at default', () => {
      expect(
        after([
          at('o1', 'default', 2 * MINUTE, true),
          at('o2', 'default', HOUR + 2 * MINUTE, false),
        ]).raise,
      ).toEqual([]);
    });

    it('flags the grant seen at a named target, which it never approved', () => {
      const r = after([
        at('o1', 'default', 2 * MINUTE, true),
        at('o2', 'default', HOUR + 2 * MINUTE, false),
        at('o3', 'eu', HOUR + 3 * MINUTE, true),
      ]);
      expect(keys(r.raise)).toEqual(['UNAPPROVED_CHANGE|agent:u|eu|db/orders|read']);
    });

    it('is no renewal at a named target: a grant left there after its own warrant ended is flagged', () => {
      const eu = grant({ warrantId: 'wrt_eu', subject: 'agent:u', targets: ['eu'] });
      const inForce = { ...untargeted, notBefore: iso(0), notAfter: iso(5 * HOUR) };
      const r = reconcile(
        input({
          now: when(2 * HOUR),
          grants: [eu, inForce],
          fulfilments: [
            fulfilment({
              id: 'f_eu',
              warrantId: 'wrt_eu',
              subject: 'agent:u',
              target: 'eu',
              fingerprint: fp('g'),
            }),
            fulfilment({
              id: 'r_eu',
              warrantId: 'wrt_eu',
              subject: 'agent:u',
              target: 'eu',
              phase: 'revoke',
              atMs: HOUR + MINUTE,
            }),
          ],
          // Revoked, it is said, yet still there after: no untargeted warrant explains it.
          observations: [at('o1', 'eu', HOUR + 5 * MINUTE, true)],
        }),
      );
      expect(keys(r.raise)).toContain('EXPIRED_NOT_REVOKED|wrt_eu|eu');
    });

    it('does not let a rotation claimed at default explain a change seen at a named target', () => {
      const rotate = grant({ warrantId: 'wrt_r', action: 'rotate', targets: [] });
      const claimed = fulfilment({
        id: 'ful_r',
        warrantId: 'wrt_r',
        target: 'default',
        fingerprint: fp('v1'),
      });
      const r = reconcile(
        input({
          now: when(2 * HOUR),
          grants: [rotate],
          fulfilments: [claimed],
          observations: [seen('v0', -HOUR, fp('v0')), seen('v1', 30 * MINUTE, fp('v1'))],
        }),
      );
      expect(keys(r.raise)).toEqual([`UNAPPROVED_CHANGE|${SUBJECT}|eu|${fp('v1')}`]);
    });
  });
});
