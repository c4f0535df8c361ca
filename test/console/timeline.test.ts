import { describe, expect, it } from 'vitest';
import { timelineOf } from '../../console/src/lib/timeline.js';
import { encodeEvent, type EventType } from '../../src/log/event.js';

const leaf = (type: EventType, data: Record<string, unknown>, actor = 'countersign') =>
  encodeEvent({ v: 1, type, at: '2026-01-01T00:00:00.000Z', actor, links: {}, data }).leaf;

describe('chain timeline from evidence entries', () => {
  it('reads each kind of event in log order, with its index', () => {
    const entries = [
      {
        index: 9,
        leaf: leaf(
          'redemption.denied',
          { code: 'EXECUTOR_MISMATCH', action: { resource: 'db/orders', permission: 'read' } },
          'deploy-us',
        ),
      },
      {
        index: 2,
        leaf: leaf(
          'request.created',
          {
            body: {
              requester: 'alice',
              subject: 'agent:x',
              action: 'grant',
              environment: 'prod',
              reason: '<b>x</b>',
            },
          },
          'alice',
        ),
      },
      {
        index: 3,
        leaf: leaf('decision.approved', {
          decision: {
            approver: 'bob',
            reason: '',
            approverIdentity: {
              via: 'oidc',
              issuer: 'https://idp',
              subject: 'u1',
              auth_time: 1767225600,
            },
          },
          rule: 'prod',
        }),
      },
      {
        index: 5,
        leaf: leaf('warrant.issued', {
          kid: 'k1',
          claims: {
            jti: 'wrt_1',
            executor: { kind: 'principal', principal: 'deploy-eu' },
            nbf: 1767225600,
            exp: 1767232800,
            max_uses: 2,
          },
        }),
      },
      {
        index: 6,
        leaf: leaf('redemption.allowed', {
          receipt: {
            use: 1,
            max_uses: 2,
            executor: 'deploy-eu',
            action: { resource: 'db/orders', permission: 'read', environment: 'prod' },
          },
        }),
      },
      { index: 7, leaf: leaf('fulfilment.recorded', { target: 'db-eu', outcome: 'failure' }) },
      { index: 8, leaf: leaf('finding.raised', { id: 'fnd_1', kind: 'DRIFT', detail: 'seen' }) },
      { index: 10, leaf: '{not json' },
    ];
    const steps = timelineOf(entries);
    expect(steps.map((s) => [s.index, s.kind, s.bad])).toEqual([
      [2, 'request', false],
      [3, 'decision', false],
      [5, 'warrant', false],
      [6, 'redemption', false],
      [7, 'fulfilment', true],
      [8, 'finding', true],
      [9, 'denial', true],
      [10, 'other', true],
    ]);
    expect(steps[0]!.facts).toContainEqual(['Reason', '<b>x</b>']);
    expect(steps[1]!.title).toBe('Approved by bob');
    expect(steps[1]!.facts).toContainEqual([
      'Signed in via',
      'OIDC https://idp as u1, signed in at 2026-01-01T00:00:00.000Z',
    ]);
    expect(steps[1]!.facts.map(([k]) => k)).not.toContain('Reason');
    expect(steps[2]!.facts).toContainEqual(['Executor', 'principal deploy-eu']);
    expect(steps[3]!.title).toBe('Redemption allowed (use 1 of 2)');
    expect(steps[6]!.title).toBe('Redemption denied: EXECUTOR_MISMATCH');
    expect(steps[6]!.facts).toContainEqual(['Executor', 'deploy-us']);
  });
});
