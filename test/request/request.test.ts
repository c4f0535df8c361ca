import { describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/canonical.js';
import { ManualClock } from '../../src/core/clock.js';
import { requestIdOf } from '../../src/request/build.js';
import { windowAt, windowText } from '../../src/request/window.js';
import { effectiveState, nextState, type RequestTransition } from '../../src/request/lifecycle.js';
import { REQUEST_STATES, type RequestState } from '../../src/request/request.js';
import { parsePolicyText } from '../../src/policy/load.js';
import { SAMPLE_POLICY } from '../../src/server/dev.js';
import {
  buildBody,
  context,
  HOUR,
  nhi,
  policy,
  principal,
  prodInput,
  T0,
  type InputOverrides,
} from '../helpers/request-fixtures.js';
import { expectCode } from '../helpers/expect-code.js';

const at = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();

describe('buildRequestBody', () => {
  describe('when a rule matches and the window fits', () => {
    it('fills the body from the input, the context and the clock', () => {
      const body = buildBody(
        prodInput({ targets: ['eu-2', 'eu-1', 'eu-2'], maxUses: 3, ticket: 'INC-42' }),
        context(),
      );
      expect(body).toEqual({
        v: 1,
        requester: 'alice',
        subject: 'svc:payments-api',
        subjectKind: 'service_account',
        subjectOwner: 'olga',
        action: 'grant',
        scope: [{ resource: 'db/orders', permissions: ['read', 'write'] }],
        environment: 'prod',
        targets: ['eu-1', 'eu-2'],
        executor: { kind: 'principal', principal: 'deploy-eu' },
        durationMs: HOUR,
        maxUses: 3,
        reason: 'hotfix for INC-42',
        ticket: 'INC-42',
        createdAt: T0,
        pendingExpiresAt: at(HOUR),
        nonce: 'nonce-1',
        policy: {
          version: policy.version,
          rule: 'prod-db',
          requiredApprovals: 2,
          approverGroups: ['dba', 'sre'],
          excludeOwner: true,
          requesterMayExecute: false,
        },
      });
    });

    it('pins the first matching rule, here the looser staging rule', () => {
      const body = buildBody(
        prodInput({ environment: 'staging', action: 'rotate', durationMs: 20 * HOUR }),
        context(),
      );
      expect(body.policy).toEqual({
        version: policy.version,
        rule: 'staging',
        requiredApprovals: 1,
        approverGroups: ['sre'],
        excludeOwner: false,
        requesterMayExecute: true,
      });
      expect(body.maxUses).toBe(1);
      expect(body).not.toHaveProperty('ticket');
    });

    it('ends the approval deadline at notAfter when an absolute window is shorter than pendingExpiry', () => {
      const body = buildBody(
        prodInput({ durationMs: undefined, notAfter: at(HOUR / 2) }),
        context(),
      );
      expect(body.pendingExpiresAt).toBe(at(HOUR / 2));
      expect([body.notBefore, body.notAfter]).toEqual([T0, at(HOUR / 2)]);
    });

    it('pins a duration alone as a window that starts when the warrant is issued', () => {
      const body = buildBody(prodInput({ durationMs: HOUR / 2 }), context());
      // The rule's pendingExpiry (1h) bounds the wait: nothing in the window is lost to it.
      expect(body).toMatchObject({ durationMs: HOUR / 2, pendingExpiresAt: at(HOUR) });
      expect(body).not.toHaveProperty('notBefore');
      expect(body).not.toHaveProperty('notAfter');
      // Approved three hours later, the window still runs its full length from then.
      expect(windowAt(body, new Date(at(3 * HOUR)))).toEqual({
        notBefore: at(3 * HOUR),
        notAfter: at(3 * HOUR + HOUR / 2),
      });
      expect(windowText(body)).toBe('30m from approval');
    });

    it('keeps a duration after an explicit notBefore absolute', () => {
      const body = buildBody(prodInput({ notBefore: at(HOUR) }), context());
      expect([body.notBefore, body.notAfter, body.durationMs]).toEqual([
        at(HOUR),
        at(2 * HOUR),
        undefined,
      ]);
    });

    it('takes an explicit future window and allows exactly the rule maximum', () => {
      const body = buildBody(
        prodInput({
          durationMs: undefined,
          notBefore: at(HOUR),
          notAfter: at(3 * HOUR),
          maxUses: 5,
        }),
        context(),
      );
      expect([body.notBefore, body.notAfter, body.maxUses]).toEqual([at(HOUR), at(3 * HOUR), 5]);
      expect(body.pendingExpiresAt).toBe(at(HOUR));
    });

    it('accepts a notBefore up to five minutes in the past for clock skew', () => {
      const body = buildBody(prodInput({ notBefore: at(-5 * 60_000) }), context());
      expect(body.notBefore).toBe(at(-5 * 60_000));
    });
  });

  describe('when no rule matches', () => {
    it.each([
      ['a declared environment that no rule covers', prodInput({ environment: 'dev' })],
      ['another action in prod', prodInput({ action: 'rotate' })],
      [
        'a resource outside db/* in prod',
        prodInput({ scope: [{ resource: 'kv/x', permissions: ['read'] }] }),
      ],
      [
        'one of two resources outside db/*',
        prodInput({
          scope: [
            { resource: 'db/a', permissions: ['read'] },
            { resource: 'db', permissions: ['read'] },
          ],
        }),
      ],
    ])('refuses %s with NO_MATCHING_POLICY', (_, input) => {
      expectCode(() => buildBody(input, context()), 'NO_MATCHING_POLICY');
    });

    it('refuses another NHI kind in prod with NO_MATCHING_POLICY', () => {
      const ctx = context(undefined, { nhi: { ...nhi, kind: 'ai_agent' } });
      expectCode(() => buildBody(prodInput(), ctx), 'NO_MATCHING_POLICY');
    });
  });

  describe('when the environment is not one the policy declares', () => {
    it.each(['PROD', 'Prod', 'prod.', 'prod ', ' prod', 'qa'])(
      'refuses %j with ENVIRONMENT_UNKNOWN',
      (environment) => {
        const err = expectCode(
          () => buildBody(prodInput({ environment }), context()),
          'ENVIRONMENT_UNKNOWN',
        );
        expect(err.details).toEqual({ declared: ['prod', 'staging', 'dev'] });
      },
    );

    it('refuses it before a catch-all rule could match it', () => {
      const sample = parsePolicyText(SAMPLE_POLICY, 'yaml');
      const ctx = context(undefined, { policy: sample });
      expect(buildBody(prodInput({ environment: 'staging' }), ctx).policy.rule).toBe('non-prod');
      expectCode(() => buildBody(prodInput({ environment: 'PROD' }), ctx), 'ENVIRONMENT_UNKNOWN');
    });
  });

  describe('when the requester names themselves as the executor', () => {
    const self = { kind: 'principal', principal: principal('alice') } as const;

    it('refuses it with SEPARATION_OF_DUTIES where the rule forbids it', () => {
      const err = expectCode(
        () => buildBody(prodInput({ executor: self }), context()),
        'SEPARATION_OF_DUTIES',
      );
      expect(err.details).toEqual({ rule: 'prod-db' });
    });

    it('allows it where the rule does not, and pins that', () => {
      const body = buildBody(prodInput({ environment: 'staging', executor: self }), context());
      expect(body.policy.requesterMayExecute).toBe(true);
    });

    it('leaves a workload binding to the check at redemption, pinning the rule', () => {
      const executor = {
        kind: 'claims',
        matcher: {
          issuer: 'https://token.actions.githubusercontent.com',
          claims: { repository: 'acme/deploy' },
        },
      } as const;
      const body = buildBody(prodInput({ executor }), context());
      expect(body.policy.requesterMayExecute).toBe(false);
    });
  });

  describe('when notBefore lies ahead', () => {
    const DAY = 24 * HOUR;
    const later = (ms: number) => ({
      durationMs: undefined,
      notBefore: at(ms),
      notAfter: at(ms + HOUR),
    });

    it('accepts a start exactly the rule maximum lead time ahead', () => {
      expect(buildBody(prodInput(later(DAY)), context()).notBefore).toBe(at(DAY));
    });

    it('refuses one a second further with POLICY_LIMIT_EXCEEDED naming the rule and bound', () => {
      const err = expectCode(
        () => buildBody(prodInput(later(DAY + 1000)), context()),
        'POLICY_LIMIT_EXCEEDED',
      );
      expect(err.details).toEqual({ rule: 'prod-db', maxLeadTimeMs: DAY });
    });

    it('bounds a rule without maxLeadTime at 7 days, so a start in 2030 is refused', () => {
      const staging = (over: InputOverrides) => prodInput({ environment: 'staging', ...over });
      expect(buildBody(staging(later(7 * DAY)), context()).notBefore).toBe(at(7 * DAY));
      const err = expectCode(
        () => buildBody(staging(later(7 * DAY + 1000)), context()),
        'POLICY_LIMIT_EXCEEDED',
      );
      expect(err.details).toEqual({ rule: 'staging', maxLeadTimeMs: 7 * DAY });
      const in2030 = staging({
        durationMs: undefined,
        notBefore: '2030-01-01T00:00:00Z',
        notAfter: '2030-01-01T01:00:00Z',
      });
      expectCode(() => buildBody(in2030, context()), 'POLICY_LIMIT_EXCEEDED');
    });
  });

  describe('when the request asks for more than the rule allows', () => {
    it.each([
      ['a duration 1 ms over 2h', prodInput({ durationMs: 2 * HOUR + 1 })],
      [
        'a notAfter over 2h away',
        prodInput({ durationMs: undefined, notAfter: at(2 * HOUR + 1000) }),
      ],
      ['6 uses where 5 is the maximum', prodInput({ maxUses: 6 })],
    ])('refuses %s with POLICY_LIMIT_EXCEEDED naming the rule', (_, input) => {
      const err = expectCode(() => buildBody(input, context()), 'POLICY_LIMIT_EXCEEDED');
      expect(err.details).toMatchObject({ rule: 'prod-db' });
    });

    it('allows a duration of exactly the maximum', () => {
      expect(buildBody(prodInput({ durationMs: 2 * HOUR }), context()).durationMs).toBe(2 * HOUR);
    });
  });

  describe('when the window is malformed', () => {
    it.each([
      ['both duration and notAfter', prodInput({ notAfter: at(HOUR) })],
      ['neither duration nor notAfter', prodInput({ durationMs: undefined })],
      [
        'notAfter before notBefore',
        prodInput({ durationMs: undefined, notBefore: at(HOUR), notAfter: at(HOUR - 1000) }),
      ],
      ['notAfter equal to notBefore', prodInput({ durationMs: undefined, notAfter: T0 })],
      ['a zero duration', prodInput({ durationMs: 0 })],
      ['a negative duration', prodInput({ durationMs: -HOUR })],
      [
        'notBefore more than five minutes in the past',
        prodInput({ notBefore: at(-5 * 60_000 - 1000) }),
      ],
      ['a notBefore that is not RFC 3339', prodInput({ notBefore: 'March 1, 2026' })],
      [
        'a notAfter that is not a date',
        prodInput({ durationMs: undefined, notAfter: '2026-13-45T99:00:00Z' }),
      ],
    ])('refuses %s with REQUEST_WINDOW_INVALID', (_, input) => {
      expectCode(() => buildBody(input, context()), 'REQUEST_WINDOW_INVALID');
    });
  });

  describe('when a timestamp passes the prefix check but is not RFC 3339', () => {
    // parseInstant (build.ts:37-43) only checks /^\d{4}-\d{2}-\d{2}T/ and Date.parse, which
    // rolls 29 February 2026 over to 1 March and reads a zone-less time in the server's zone.
    it.each([
      ['a day that does not exist', '2026-02-29T13:00:00Z'],
      ['no time zone offset', '2026-03-01T13:00:00'],
    ])('refuses notAfter with %s as not RFC 3339', (_, notAfter) => {
      const input = prodInput({ durationMs: undefined, notAfter });
      const err = expectCode(() => buildBody(input, context()), 'REQUEST_WINDOW_INVALID');
      expect(err.message).toContain('RFC 3339');
    });
  });

  describe('when the scope is invalid', () => {
    it('refuses it with INVALID_SCOPE before matching', () => {
      const input = prodInput({ scope: [{ resource: 'db/../orders', permissions: ['read'] }] });
      expectCode(() => buildBody(input, context()), 'INVALID_SCOPE');
    });

    it('refuses argument constraints on a request that is not a tool call', () => {
      const scope = [
        { resource: 'db/orders', permissions: ['read'], constraints: { region: { in: ['eu'] } } },
      ];
      const err = expectCode(() => buildBody(prodInput({ scope }), context()), 'INVALID_SCOPE');
      expect(err.message).toContain('a grant request has none to check');
    });
  });
});

describe('requestIdOf', () => {
  describe('when the body is built', () => {
    it('is sha256: and 64 hex digits, the digest of the body', () => {
      const body = buildBody(prodInput(), context());
      expect(requestIdOf(body)).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(requestIdOf(body)).toBe(digestOf(body));
    });

    it('is the same for identical inputs, context and nonce', () => {
      const a = requestIdOf(buildBody(prodInput(), context()));
      const b = requestIdOf(buildBody(prodInput(), context()));
      expect(a).toBe(b);
    });
  });

  describe('when two identical inputs carry different nonces', () => {
    it('gives different ids', () => {
      const a = requestIdOf(buildBody(prodInput(), context(undefined, { nonce: 'n-1' })));
      const b = requestIdOf(buildBody(prodInput(), context(undefined, { nonce: 'n-2' })));
      expect(a).not.toBe(b);
    });
  });

  describe('when the clock moves between two builds', () => {
    it('gives different ids', () => {
      const clock = new ManualClock(T0);
      const a = requestIdOf(buildBody(prodInput(), context(clock)));
      clock.advance(1);
      const b = requestIdOf(buildBody(prodInput(), context(clock)));
      expect(a).not.toBe(b);
    });
  });
});

describe('nextState', () => {
  const TRANSITIONS: readonly RequestTransition[] = [
    'approve',
    'deny',
    'expire',
    'withdraw',
    'revoke',
    'exhaust',
  ];
  // Columns follow TRANSITIONS: approve, deny, expire, withdraw, revoke, exhaust.
  const EXPECTED: Record<RequestState, readonly (RequestState | null)[]> = {
    pending: ['approved', 'denied', 'expired', 'withdrawn', null, null],
    approved: [null, null, 'expired', null, 'revoked', 'exhausted'],
    denied: [null, null, null, null, null, null],
    expired: [null, null, null, null, null, null],
    withdrawn: [null, null, null, null, null, null],
    revoked: [null, null, null, null, null, null],
    exhausted: [null, null, null, null, null, null],
  };
  const pairs = REQUEST_STATES.flatMap((s) =>
    TRANSITIONS.map((t, i) => [s, t, EXPECTED[s][i]] as const),
  );

  describe('when each state meets each transition', () => {
    it('covers all 7 × 6 pairs', () => {
      expect(pairs).toHaveLength(42);
    });

    it.each(pairs)('takes %s on %s to %s', (state, t, expected) => {
      expect(nextState(state, t)).toBe(expected);
    });
  });

  describe('when the state is terminal', () => {
    it.each(['denied', 'expired', 'withdrawn', 'revoked', 'exhausted'] as const)(
      'accepts no transition from %s',
      (state) => {
        expect(TRANSITIONS.map((t) => nextState(state, t))).toEqual(TRANSITIONS.map(() => null));
      },
    );
  });
});

describe('effectiveState', () => {
  describe('when a pending request reaches its approval deadline', () => {
    it('reads as expired from exactly the deadline, and pending one millisecond before', () => {
      expect(effectiveState('pending', at(HOUR), new Date(Date.parse(at(HOUR)) - 1))).toBe(
        'pending',
      );
      expect(effectiveState('pending', at(HOUR), new Date(at(HOUR)))).toBe('expired');
    });
  });

  describe('when the request is not pending', () => {
    it.each(REQUEST_STATES.filter((s) => s !== 'pending'))('leaves %s unchanged', (state) => {
      expect(effectiveState(state, at(HOUR), new Date(at(2 * HOUR)))).toBe(state);
    });
  });
});
