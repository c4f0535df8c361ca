import { describe, expect, it } from 'vitest';
import { custodyOf } from '../../src/evidence/custody.js';
import { renderCustody } from '../../src/evidence/render.js';
import type { EvidenceEvent } from '../../src/evidence/read.js';
import { verifyBundle } from '../../src/evidence/verify.js';
import { buildFixture, T0 } from './fixture.js';
import type { FixtureEvent } from './fixture.js';

const at = (minutes: number): string => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

/** A request whose warrant was used past its limits, then revoked; fulfilments and an unknown event. */
const eventful = (ids: { requestId: string; warrantId: string }): FixtureEvent[] => {
  const links = { request: ids.requestId, warrant: ids.warrantId };
  const ev = (
    type: string,
    minutes: number,
    actor: string,
    data: Record<string, unknown>,
  ): FixtureEvent => ({
    v: 1,
    type,
    at: at(minutes),
    actor,
    links,
    data,
  });
  const receipt = (use: number) => ({
    use,
    max_uses: 2,
    executor: 'deploy-eu',
    action: { resource: 'db/orders', permission: 'write', environment: 'prod', target: 'db-eu-2' },
  });
  return [
    ev('fulfilment.succeeded', 11, 'deploy-eu', {
      target: 'db-eu-1',
      outcome: 'success',
      fingerprint: 'fp:abc',
    }),
    ev('fulfilment.failed', 13, 'deploy-eu', { target: 'db-eu-2', outcome: 'failure' }),
    ev('observation.drift', 14, 'scanner', { anything: [1, { nested: true }] }),
    ev('warrant.revoked', 20, 'alice', { reason: 'done \u001b[31mRED\u001b[0m \u202eevil' }),
    ev('redemption.allowed', 21, 'deploy-eu', { receipt: receipt(2) }),
    ev('redemption.allowed', 61, 'deploy-eu', { receipt: receipt(3) }),
  ];
};

describe('custodyOf', () => {
  describe('when the log shows more than was approved', () => {
    it('lists each gap: unfulfilled target, use after revocation and expiry', async () => {
      const fx = await buildFixture({ extra: eventful });
      const report = await verifyBundle(fx.text);
      expect(report.custody.gaps).toEqual([
        { kind: 'target_unfulfilled', target: 'db-eu-2' },
        { kind: 'redeemed_after_revocation', at: at(21), revokedAt: at(20) },
        { kind: 'redeemed_after_expiry', at: at(61), exp: at(60) },
        { kind: 'redeemed_after_revocation', at: at(61), revokedAt: at(20) },
      ]);
    });

    it('fails the bundle when more uses were allowed than the warrant was signed for', async () => {
      const fx = await buildFixture({ extra: eventful });
      const report = await verifyBundle(fx.text);
      expect(report.ok).toBe(false);
      expect(report.checks.filter((c) => !c.ok)).toEqual([
        {
          code: 'USES_EXCEED_SIGNED_MAX',
          ok: false,
          detail: '3 allowed redemptions exceed the signed max_uses 2',
        },
      ]);
    });

    it('flags a warrant issued with fewer distinct approvers than the policy requires', async () => {
      const fx = await buildFixture({ approvers: 1, requiredApprovals: 2 });
      const report = await verifyBundle(fx.text);
      expect(report.custody.gaps).toContainEqual({
        kind: 'quorum_short',
        required: 2,
        approvers: 1,
      });
      expect(renderCustody(report)).toContain(
        'warrant issued with 1 distinct approver(s); policy required 2',
      );
    });

    it('reports no gaps when every approved target was fulfilled', async () => {
      const fx = await buildFixture({
        targets: ['db-eu-1'],
        extra: (ids) => eventful(ids).slice(0, 1),
      });
      expect((await verifyBundle(fx.text)).custody.gaps).toEqual([]);
    });
  });

  describe('when rendering', () => {
    it('shows fulfilments per target, the revocation, and unknown events generically', async () => {
      const fx = await buildFixture({ extra: eventful });
      const text = renderCustody(await verifyBundle(fx.text));
      expect(text).toContain('db-eu-1: success (phase apply, by deploy-eu');
      expect(text).toContain('fingerprint fp:abc');
      expect(text).toContain('db-eu-2: failure');
      expect(text).toContain(`observation.drift by scanner at ${at(14)}`);
      expect(text).toContain('FAILED USES_EXCEED_SIGNED_MAX');
      expect(text).toContain(`revoked at ${at(20)} by alice`);
      expect(text).toContain('approved target db-eu-2 has no successful fulfilment');
    });

    it('shows revocations, observations and findings, and lists every open finding as a gap', async () => {
      const after = (ids: { requestId: string; warrantId: string }): FixtureEvent[] => {
        const ev = (
          type: string,
          minutes: number,
          actor: string,
          data: Record<string, unknown>,
        ) => ({
          v: 1 as const,
          type,
          at: at(minutes),
          actor,
          links: { request: ids.requestId, warrant: ids.warrantId },
          data,
        });
        return [
          ev('fulfilment.succeeded', 30, 'broker', {
            target: 'db-eu-1',
            phase: 'revoke',
            outcome: 'success',
          }),
          ev('observation.recorded', 31, 'collector', {
            target: 'db-eu-1',
            observedAt: at(31),
            fact: { kind: 'grant', resource: 'db/orders', permission: 'read', present: false },
          }),
          ev('finding.raised', 32, 'countersign', {
            id: 'fnd_1',
            kind: 'UNFULFILLED_TARGET',
            target: 'db-eu-2',
            detail: 'never fulfilled',
          }),
          ev('finding.raised', 33, 'countersign', {
            id: 'fnd_2',
            kind: 'UNAPPROVED_CHANGE',
            target: 'db-eu-1',
            detail: 'rogue grant',
          }),
          ev('finding.resolved', 34, 'admin', { id: 'fnd_2' }),
        ];
      };
      const fx = await buildFixture({ targets: ['db-eu-1', 'db-eu-2'], extra: after });
      const report = await verifyBundle(fx.text);
      const text = renderCustody(report);
      expect(text).toMatch(/Revocations\n {2}db-eu-1: success \(phase revoke, by broker/);
      expect(text).toMatch(/Observations\n {2}db-eu-1: grant db\/orders=read absent/);
      expect(text).toContain('UNFULFILLED_TARGET on db-eu-2: open');
      expect(text).toContain('UNAPPROVED_CHANGE on db-eu-1: resolved');
      expect(report.custody.gaps).toContainEqual({
        kind: 'finding_unresolved',
        findingKind: 'UNFULFILLED_TARGET',
        target: 'db-eu-2',
        state: 'open',
        detail: 'never fulfilled',
      });
      expect(text).toContain(
        'finding UNFULFILLED_TARGET on target db-eu-2 is open: never fulfilled',
      );
      expect(text).not.toContain('finding UNAPPROVED_CHANGE on target db-eu-1 is');
    });

    it('shows a finding reconciliation reopened as open again, with its new detail', async () => {
      const after = (ids: { requestId: string; warrantId: string }): FixtureEvent[] => {
        const ev = (type: string, minutes: number, data: Record<string, unknown>) => ({
          v: 1 as const,
          type,
          at: at(minutes),
          actor: 'countersign',
          links: { request: ids.requestId, warrant: ids.warrantId },
          data: { id: 'fnd_1', ...data },
        });
        return [
          ev('finding.raised', 30, {
            kind: 'EXPIRED_NOT_REVOKED',
            target: 'db-eu-1',
            detail: 'still present',
          }),
          ev('finding.resolved', 31, {}),
          ev('finding.reopened', 32, { target: 'db-eu-1', detail: 'present again' }),
          // A second reopening of an open finding is not a move: it changes nothing.
          ev('finding.reopened', 33, { target: 'db-eu-1', detail: 'ignored' }),
        ];
      };
      const report = await verifyBundle((await buildFixture({ extra: after })).text);
      expect(report.custody.gaps).toContainEqual({
        kind: 'finding_unresolved',
        findingKind: 'EXPIRED_NOT_REVOKED',
        target: 'db-eu-1',
        state: 'open',
        detail: 'present again',
      });
    });

    it('escapes terminal control and bidi characters from the log', async () => {
      const fx = await buildFixture({ extra: eventful });
      const text = renderCustody(await verifyBundle(fx.text));
      expect(text.includes('\u001b')).toBe(false);
      expect(text.includes('\u202e')).toBe(false);
      expect(text).toContain('\\u001b[31mRED');
      expect(text).toContain('\\u202eevil');
    });
  });

  describe('when events are missing fields or hold odd values', () => {
    it('reads them as missing rather than failing', () => {
      const weird: EvidenceEvent[] = [
        { v: 1, type: 'request.created', at: at(0), actor: 'x', links: {}, data: { body: [1, 2] } },
        {
          v: 1,
          type: 'decision.approved',
          at: at(1),
          actor: 'bob',
          links: {},
          data: { decision: 'yes' },
        },
        {
          v: 1,
          type: 'warrant.issued',
          at: at(2),
          actor: 'cs',
          links: {},
          data: { claims: { exp: 1e300, nbf: 'soon', targets: [1, 't'] } },
        },
        {
          v: 1,
          type: 'redemption.allowed',
          at: 'not a time',
          actor: 'e',
          links: {},
          data: { receipt: null },
        },
        { v: 1, type: 'redemption.denied', at: at(3), actor: 'm', links: {}, data: {} },
        { v: 1, type: 'fulfilment.', at: at(4), actor: 'f', links: {}, data: { target: 7 } },
      ];
      const chain = custodyOf(weird);
      expect(chain.request?.requester).toBeNull();
      expect(chain.decisions[0]).toMatchObject({ approver: 'bob', at: at(1), reason: null });
      expect(chain.warrant).toMatchObject({ notAfter: null, notBefore: null, targets: ['t'] });
      expect(chain.redemptions[0]).toMatchObject({ use: null, action: null });
      expect(chain.gaps).toEqual([{ kind: 'target_unfulfilled', target: 't' }]);
      const text = renderCustody({
        ok: false,
        requestId: null,
        trust: 'embedded',
        checkpoint: null,
        checks: [],
        custody: chain,
      });
      expect(text).toContain('requested by (missing)');
      expect(text).toContain('(no action recorded)');
    });

    it('reports redemptions with no warrant', () => {
      const chain = custodyOf([
        { v: 1, type: 'redemption.allowed', at: at(5), actor: 'e', links: {}, data: {} },
      ]);
      expect(chain.gaps).toEqual([
        { kind: 'request_missing' },
        { kind: 'redeemed_without_warrant', at: at(5) },
      ]);
    });
  });
});
