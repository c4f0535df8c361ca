import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { Principal } from '../../src/identity/principal.js';
import type { Finding, FindingId } from '../../src/reconcile/finding.js';
import type { ServiceContext } from '../../src/service/context.js';
import { decideFinding } from '../../src/service/findings.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { appendRaisedEvent } from '../helpers/store-rows.js';

const AT = '2026-01-01T00:00:00.000Z';

const finding: Finding = {
  id: 'fnd_t1' as FindingId,
  key: 'UNAPPROVED_CHANGE|t1',
  kind: 'UNAPPROVED_CHANGE',
  state: 'open',
  requestId: null,
  warrantId: null,
  subject: 'svc:t',
  target: null,
  detail: 'transition test',
  evidence: { warrants: [], redemptions: [], fulfilments: [], observations: [] },
  raisedAt: AT,
  updatedAt: AT,
  resolution: null,
};

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `finding transitions on the ${dialect.name} store`,
    () => {
      const storeOf = storePerTest(dialect, (store) =>
        store.transaction(async (tx) => {
          const eventId = await appendRaisedEvent(tx, AT);
          await tx.findings.insert(finding, eventId);
        }),
      );

      describe('when eight transactions resolve one open finding at once', () => {
        it('lets exactly one move it, so one resolution is recorded', async () => {
          const store = storeOf();
          const resolution = { by: 'bob', reason: 'fixed', at: AT, automatic: false };
          const moved = await Promise.all(
            Array.from({ length: 8 }, () =>
              store.transaction((tx) =>
                tx.findings.update(finding.id, 'open', 'resolved', resolution, AT),
              ),
            ),
          );
          expect(moved.filter(Boolean)).toHaveLength(1);
          expect((await store.read.findings.get(finding.id))?.state).toBe('resolved');
        });
      });

      describe('when reconciliation reopens a finding', () => {
        const proof = { warrants: [], redemptions: [], fulfilments: [], observations: [7] };
        const LATER = '2026-01-01T01:00:00.000Z';

        it('reopens only a resolved one, with the new detail and proof, and only once', async () => {
          const store = storeOf();
          const reopen = (resolvedAt = AT) =>
            store.transaction((tx) =>
              tx.findings.reopen(finding.id, resolvedAt, 'back again', proof, LATER),
            );
          expect(await reopen()).toBe(false);
          const resolution = { by: 'countersign', reason: 'cleared', at: AT, automatic: true };
          await store.transaction((tx) =>
            tx.findings.update(finding.id, 'open', 'resolved', resolution, AT),
          );
          // A resolution other than the one read (a person's, made since) is left alone.
          expect(await reopen('2026-01-01T00:30:00.000Z')).toBe(false);
          const both = await Promise.all([reopen(), reopen()]);
          expect(both.filter(Boolean)).toHaveLength(1);
          expect(await store.read.findings.get(finding.id)).toMatchObject({
            state: 'open',
            detail: 'back again',
            evidence: proof,
            updatedAt: LATER,
            raisedAt: AT,
            resolution: null,
          });
        });
      });

      describe('when one call acknowledges each of 20 findings while another resolves it', () => {
        it('resolves every one: the resolution is never refused for the acknowledgement', async () => {
          const store = storeOf();
          const ctx = { store, clock: new ManualClock(AT) } as unknown as ServiceContext;
          const admin = { id: 'admin' } as unknown as Principal;
          const more = Array.from({ length: 19 }, (_, i) => ({
            ...finding,
            id: `fnd_t1_${i}` as FindingId,
            key: `${finding.key}_${i}`,
          }));
          await store.transaction(async (tx) => {
            const eventId = await appendRaisedEvent(tx, AT);
            for (const f of more) await tx.findings.insert(f, eventId);
          });
          const ids = [finding.id, ...more.map((f) => f.id)];
          const resolutions = await Promise.allSettled(
            ids.flatMap((id) => [
              decideFinding(ctx, admin, id, 'acknowledge', 'looking'),
              decideFinding(ctx, admin, id, 'resolve', 'fixed'),
            ]),
          ).then((settled) => settled.filter((_, i) => i % 2 === 1));
          expect(resolutions.map((r) => r.status)).toEqual(ids.map(() => 'fulfilled'));
          const states = await Promise.all(ids.map((id) => store.read.findings.get(id)));
          expect(states.map((f) => f?.state)).toEqual(ids.map(() => 'resolved'));
        });
      });

      describe('when the state it was read in is gone', () => {
        it('moves nothing and says so', async () => {
          const store = storeOf();
          await store.transaction((tx) =>
            tx.findings.update(finding.id, 'open', 'acknowledged', null, AT),
          );
          const stale = await store.transaction((tx) =>
            tx.findings.update(finding.id, 'open', 'resolved', null, AT),
          );
          expect(stale).toBe(false);
          expect((await store.read.findings.get(finding.id))?.state).toBe('acknowledged');
        });
      });
    },
  );
}
