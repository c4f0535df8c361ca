import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { DecisionId } from '../../src/core/ids.js';
import {
  evaluateDecision as evaluate,
  type Approver,
  type Decision,
  type DecisionKind,
} from '../../src/approval/decision.js';
import { requestIdOf } from '../../src/request/build.js';
import { effectiveState } from '../../src/request/lifecycle.js';
import type { RequestBody, RequestRecord, RequestState } from '../../src/request/request.js';
import { HOUR, principal, prodBody, T0 } from '../helpers/request-fixtures.js';
import { expectCode } from '../helpers/expect-code.js';

/** A stored request; the prod body needs 2 approvals from dba or sre and excludes the owner. */
const record = (
  body: RequestBody = prodBody(),
  state: RequestState = 'pending',
): RequestRecord => ({
  id: requestIdOf(body),
  body,
  state,
  warrantId: null,
  updatedAt: body.createdAt,
});

const approver = (id: string, groups: readonly string[] = ['sre']): Approver => ({
  id: principal(id),
  groups,
});

const decided = (req: RequestRecord, id: string, decision: DecisionKind = 'approve'): Decision => ({
  id: `dec_${id}` as DecisionId,
  requestId: req.id,
  requestDigest: req.id,
  approver: principal(id),
  decision,
  reason: 'looks fine',
  at: T0,
});

const now = (): Date => new ManualClock(T0).now();

/** The decision as the service asks for it: on the request's effective state at `at`. */
const evaluateDecision = (
  req: RequestRecord,
  prior: readonly Decision[],
  who: Approver,
  kind: DecisionKind,
  at: Date,
) => evaluate(req, prior, who, kind, effectiveState(req.state, req.body.pendingExpiresAt, at));

describe('evaluateDecision', () => {
  describe('when the requester tries to decide', () => {
    it.each<DecisionKind>(['approve', 'deny'])(
      'refuses to %s with SEPARATION_OF_DUTIES even from an approver group',
      (kind) => {
        const req = record();
        expectCode(
          () => evaluateDecision(req, [], approver('alice', ['sre', 'dba']), kind, now()),
          'SEPARATION_OF_DUTIES',
        );
      },
    );
  });

  describe("when the subject's owner tries to decide", () => {
    it('refuses with SEPARATION_OF_DUTIES when the pinned rule excludes the owner', () => {
      const req = record();
      expect(req.body.policy.excludeOwner).toBe(true);
      expectCode(
        () => evaluateDecision(req, [], approver('olga'), 'approve', now()),
        'SEPARATION_OF_DUTIES',
      );
    });

    it('refuses a member of the owning group too, when the owner is a group', () => {
      const body = prodBody();
      const req = record({ ...body, subjectOwner: 'team-data' });
      expectCode(
        () => evaluateDecision(req, [], approver('dana', ['sre', 'team-data']), 'approve', now()),
        'SEPARATION_OF_DUTIES',
      );
      expect(evaluateDecision(req, [], approver('erin', ['sre']), 'approve', now())).toEqual({
        kind: 'recorded',
        approvals: 1,
      });
    });

    it('refuses someone whose credential claims the owning group its issuer is not trusted for', () => {
      const req = record({ ...prodBody(), subjectOwner: 'team-data' });
      const claimed = { ...approver('dana', ['sre']), claimedGroups: ['sre', 'team-data'] };
      expectCode(
        () => evaluateDecision(req, [], claimed, 'approve', now()),
        'SEPARATION_OF_DUTIES',
      );
    });

    it('counts the approval when the pinned rule does not exclude the owner', () => {
      const req = record(prodBody({ environment: 'staging' }));
      expect(req.body.policy.excludeOwner).toBe(false);
      expect(evaluateDecision(req, [], approver('olga'), 'approve', now())).toEqual({
        kind: 'quorum',
        approvals: 1,
      });
    });
  });

  describe('when the approver only claims a pinned group its issuer is not trusted for', () => {
    it('refuses with NOT_IN_APPROVER_GROUP', () => {
      const claimed = { ...approver('dana', []), claimedGroups: ['sre', 'dba'] };
      expectCode(
        () => evaluateDecision(record(), [], claimed, 'approve', now()),
        'NOT_IN_APPROVER_GROUP',
      );
    });
  });

  describe('when the approver is in none of the pinned groups', () => {
    it.each([[['ops']], [[]], [['SRE']], [['sre-team']]])(
      'refuses groups %j with NOT_IN_APPROVER_GROUP',
      (groups) => {
        expectCode(
          () => evaluateDecision(record(), [], approver('bob', groups), 'approve', now()),
          'NOT_IN_APPROVER_GROUP',
        );
      },
    );

    it('accepts membership of any one pinned group', () => {
      const outcome = evaluateDecision(
        record(),
        [],
        approver('bob', ['ops', 'dba']),
        'approve',
        now(),
      );
      expect(outcome).toEqual({ kind: 'recorded', approvals: 1 });
    });
  });

  describe('when the same approver decides twice', () => {
    it.each<[DecisionKind, DecisionKind]>([
      ['approve', 'approve'],
      ['approve', 'deny'],
    ])('refuses a %s after a %s with DUPLICATE_APPROVER', (second, first) => {
      const req = record();
      expectCode(
        () => evaluateDecision(req, [decided(req, 'bob', first)], approver('bob'), second, now()),
        'DUPLICATE_APPROVER',
      );
    });
  });

  describe('when approvals accumulate', () => {
    it('records the first and reaches quorum at exactly the second distinct approval', () => {
      const req = record();
      expect(evaluateDecision(req, [], approver('bob'), 'approve', now())).toEqual({
        kind: 'recorded',
        approvals: 1,
      });
      expect(
        evaluateDecision(req, [decided(req, 'bob')], approver('carol', ['dba']), 'approve', now()),
      ).toEqual({ kind: 'quorum', approvals: 2 });
    });

    it('reaches quorum at exactly the N-th distinct approval for any N', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 16 }), (n) => {
          const base = prodBody();
          const req = record({ ...base, policy: { ...base.policy, requiredApprovals: n } });
          const prior: Decision[] = [];
          for (let i = 1; i <= n; i++) {
            const outcome = evaluateDecision(req, prior, approver(`ap-${i}`), 'approve', now());
            expect(outcome).toEqual({ kind: i < n ? 'recorded' : 'quorum', approvals: i });
            prior.push(decided(req, `ap-${i}`));
          }
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('when an approver denies', () => {
    it('denies the request at once, even after an approval', () => {
      const req = record();
      expect(evaluateDecision(req, [], approver('bob'), 'deny', now())).toEqual({ kind: 'denied' });
      expect(
        evaluateDecision(req, [decided(req, 'bob')], approver('carol'), 'deny', now()),
      ).toEqual({ kind: 'denied' });
    });
  });

  describe('when the pending request reached its approval deadline', () => {
    it('refuses with REQUEST_EXPIRED from exactly pendingExpiresAt', () => {
      const req = record();
      const clock = new ManualClock(req.body.pendingExpiresAt);
      expect(req.body.pendingExpiresAt).toBe(new Date(Date.parse(T0) + HOUR).toISOString());
      expectCode(
        () => evaluateDecision(req, [], approver('bob'), 'approve', clock.now()),
        'REQUEST_EXPIRED',
      );
      clock.advance(-1);
      expect(evaluateDecision(req, [], approver('bob'), 'approve', clock.now()).kind).toBe(
        'recorded',
      );
    });

    it('reports the expiry before any separation-of-duties problem', () => {
      const req = record();
      const later = new ManualClock(T0);
      later.advance(2 * HOUR);
      expectCode(
        () => evaluateDecision(req, [], approver('alice'), 'approve', later.now()),
        'REQUEST_EXPIRED',
      );
    });
  });

  describe('when the request is no longer pending', () => {
    it.each<RequestState>(['approved', 'denied', 'withdrawn', 'revoked', 'exhausted'])(
      'refuses a decision on a %s request with REQUEST_NOT_PENDING',
      (state) => {
        expectCode(
          () => evaluateDecision(record(prodBody(), state), [], approver('bob'), 'approve', now()),
          'REQUEST_NOT_PENDING',
        );
      },
    );

    it('refuses a decision on a stored expired request with REQUEST_EXPIRED', () => {
      expectCode(
        () => evaluateDecision(record(prodBody(), 'expired'), [], approver('bob'), 'deny', now()),
        'REQUEST_EXPIRED',
      );
    });
  });

  describe('when the groups pinned in the body differ from the current policy', () => {
    it('checks the pinned groups', () => {
      const body = prodBody();
      const pinned = { ...body, policy: { ...body.policy, approverGroups: ['audit'] } };
      expectCode(
        () => evaluateDecision(record(pinned), [], approver('bob', ['sre']), 'approve', now()),
        'NOT_IN_APPROVER_GROUP',
      );
    });
  });
});
