import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FINDING_KINDS,
  FINDING_STATES,
  findingKey,
  keyPart,
  transitionFinding,
  type FindingState,
  type FindingTransition,
} from '../../src/reconcile/finding.js';
import { expectCode } from '../helpers/expect-code.js';

describe('transitionFinding', () => {
  describe('when the transition is allowed', () => {
    it.each<[FindingState, FindingTransition, FindingState]>([
      ['open', 'acknowledge', 'acknowledged'],
      ['open', 'resolve', 'resolved'],
      ['acknowledged', 'resolve', 'resolved'],
    ])('moves %s by %s to %s', (from, t, to) => {
      expect(transitionFinding(from, t)).toBe(to);
    });
  });

  describe('when the transition is not allowed', () => {
    it.each<[FindingState, FindingTransition]>([
      ['acknowledged', 'acknowledge'],
      ['resolved', 'acknowledge'],
      ['resolved', 'resolve'],
    ])('refuses to %2$s a finding that is %1$s', (from, t) => {
      const err = expectCode(() => transitionFinding(from, t), 'FINDING_TRANSITION_INVALID');
      expect(err.details).toEqual({ state: from, transition: t });
    });
  });

  describe('when any state meets any transition', () => {
    it('never leaves a resolved finding and never goes back to open', () => {
      for (const s of FINDING_STATES) {
        for (const t of ['acknowledge', 'resolve'] as const) {
          try {
            const next = transitionFinding(s, t);
            expect(next).not.toBe('open');
            expect(s).not.toBe('resolved');
          } catch {
            // refused transitions are covered above
          }
        }
      }
    });
  });
});

describe('findingKey', () => {
  describe('when keys are built for each kind', () => {
    it('starts every key with its kind', () => {
      const built = [
        findingKey.unfulfilledTarget('w', 't'),
        findingKey.fulfilmentMismatch('f'),
        findingKey.unapprovedVersion('s', 't', 'sha256:x'),
        findingKey.scopeExceeded('s', 't', 'db/*', 'read'),
        findingKey.expiredNotRevoked('w', 't'),
        findingKey.redemptionAbuse('w'),
      ];
      expect(built.map((k) => k.split('|')[0])).toEqual([...FINDING_KINDS]);
      expect(findingKey.unapprovedGrant('s', 't', 'db/orders', 'read')).toBe(
        'UNAPPROVED_CHANGE|s|t|db/orders|read',
      );
    });
  });

  describe('when names hold the separator or the escape', () => {
    // Every way of building a key, each named with the arguments it was given.
    // Few short names, so that one run meets many pairs whose texts line up.
    const name = fc.string({ unit: fc.constantFrom('a', '|', '\\', 'after'), maxLength: 3 });
    const built = fc.oneof(
      fc
        .tuple(name, name)
        .map(([w, t]) => ['unfulfilled', w, t, findingKey.unfulfilledTarget(w, t)]),
      name.map((f) => ['mismatch', f, findingKey.fulfilmentMismatch(f)]),
      fc
        .tuple(name, name, name)
        .map(([s, t, f]) => ['version', s, t, f, findingKey.unapprovedVersion(s, t, f)]),
      fc
        .tuple(name, name, name, name)
        .map(([s, t, r, p]) => ['grant', s, t, r, p, findingKey.unapprovedGrant(s, t, r, p)]),
      fc
        .tuple(name, name, name, name)
        .map(([s, t, r, p]) => ['scope', s, t, r, p, findingKey.scopeExceeded(s, t, r, p)]),
      fc.tuple(name, name).map(([w, t]) => ['expired', w, t, findingKey.expiredNotRevoked(w, t)]),
      name.map((w) => ['abuse', w, findingKey.redemptionAbuse(w)]),
      name.map((e) => ['caller', e, findingKey.callerAbuse(e)]),
      fc
        .tuple(name, name)
        .map(([w, id]) => [
          'abuse after',
          w,
          id,
          findingKey.abuseAfter(findingKey.redemptionAbuse(w), id),
        ]),
      fc
        .tuple(name, name)
        .map(([e, id]) => [
          'caller after',
          e,
          id,
          findingKey.abuseAfter(findingKey.callerAbuse(e), id),
        ]),
    );

    it('gives two different facts two different keys', () => {
      fc.assert(
        fc.property(fc.array(built, { minLength: 200, maxLength: 400 }), (facts) => {
          const byKey = new Map<unknown, unknown[]>();
          for (const fact of facts) {
            const seen = byKey.get(fact.at(-1));
            if (seen) expect(fact).toEqual(seen);
            byKey.set(fact.at(-1), fact);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('escapes only those two, so that every other name keeps its key', () => {
      expect(keyPart('deploy-us@eu:1')).toBe('deploy-us@eu:1');
      expect(findingKey.callerAbuse('a|after|fnd_1')).toBe(
        'REDEMPTION_ABUSE|caller|a\\|after\\|fnd_1',
      );
      expect(findingKey.unfulfilledTarget('w\\', 't')).toBe('UNFULFILLED_TARGET|w\\\\|t');
    });
  });
});
