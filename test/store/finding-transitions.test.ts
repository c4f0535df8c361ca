import { describe, expect, it } from 'vitest';
import type { Finding, FindingId } from '../../src/reconcile/finding.js';
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
