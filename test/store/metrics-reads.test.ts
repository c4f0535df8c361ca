import { describe, expect, it } from 'vitest';
import type {
  Finding,
  FindingId,
  FindingKind,
  FindingProof,
  FindingState,
} from '../../src/reconcile/finding.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { appendRaisedEvent } from '../helpers/store-rows.js';

const AT = '2026-01-01T00:00:00.000Z';
const NO_PROOF: FindingProof = { warrants: [], redemptions: [], fulfilments: [], observations: [] };

const finding = (n: number, kind: FindingKind, state: FindingState): Finding => ({
  id: `fnd_m${n}` as FindingId,
  key: `${kind}|m${n}`,
  kind,
  state,
  requestId: null,
  warrantId: null,
  subject: 'svc:m',
  target: null,
  detail: 'metrics test',
  evidence: NO_PROOF,
  raisedAt: AT,
  updatedAt: AT,
  resolution: null,
});

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `what a metrics scrape reads, on ${dialect.name}`,
    () => {
      const storeOf = storePerTest(dialect);

      describe('findings.openByKind', () => {
        it('counts open findings by kind, leaving out acknowledged, resolved and absent kinds', async () => {
          const store = storeOf();
          await store.transaction(async (tx) => {
            const eventId = await appendRaisedEvent(tx, AT);
            const rows: Array<[FindingKind, FindingState]> = [
              ['UNAPPROVED_CHANGE', 'open'],
              ['UNAPPROVED_CHANGE', 'open'],
              ['UNAPPROVED_CHANGE', 'acknowledged'],
              ['REDEMPTION_ABUSE', 'open'],
              ['EXPIRED_NOT_REVOKED', 'resolved'],
            ];
            for (const [i, [kind, state]] of rows.entries()) {
              await tx.findings.insert(finding(i, kind, state), eventId);
            }
          });
          expect(await store.read.findings.openByKind()).toEqual(
            new Map([
              ['UNAPPROVED_CHANGE', 2],
              ['REDEMPTION_ABUSE', 1],
            ]),
          );
        });
      });

      describe('poolUsage', () => {
        it('counts connections without a query, none of them waiting while the store is idle', async () => {
          const usage = storeOf().poolUsage();
          expect(usage.waiting).toBe(0);
          expect(usage.inUse).toBe(0);
          expect(usage.idle).toBeGreaterThanOrEqual(dialect.name === 'sqlite' ? 1 : 0);
        });
      });
    },
  );
}
