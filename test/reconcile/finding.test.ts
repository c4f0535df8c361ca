import { describe, expect, it } from 'vitest';
import {
  FINDING_KINDS,
  FINDING_STATES,
  findingKey,
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
});
