import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { KeyRing } from '../../src/keys/keyring.js';
import { encodeEvent } from '../../src/log/event.js';
import type { Finding, FindingId, FindingProof } from '../../src/reconcile/finding.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import { runReconcile } from '../../src/service/reconcile.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { AT, integrateAll, observeUnapprovedGrant } from '../helpers/unapproved-grant.js';

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `reconciliation on the ${dialect.name} store`,
    () => {
      let store: Store;
      const storeOf = storePerTest(dialect);
      let ring: KeyRing;
      const clock = new ManualClock(AT);
      const integrate = () => integrateAll(store, clock, ring);
      beforeEach(async () => {
        store = storeOf();
        ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
      });

      describe('when a finding would cite an event the log has not integrated yet', () => {
        it('defers the finding to the next pass rather than raise it without its proof', async () => {
          await observeUnapprovedGrant(store, 'o1');
          const ctx = { store, clock };
          const notYet = { ...ctx, integrateLog: async () => {} };
          expect(await runReconcile(notYet)).toMatchObject({ raised: 0, deferred: 1 });
          expect(await store.read.findings.list(undefined, 10)).toEqual([]);

          const summary = await runReconcile({ ...ctx, integrateLog: integrate });
          expect(summary).toMatchObject({ raised: 1, deferred: 0 });
          const [finding] = await store.read.findings.list(undefined, 10);
          const [leaf] = (
            await store.read.reconciliation.leavesOf('observations', ['o1'])
          ).values();
          expect(typeof leaf).toBe('number');
          expect(finding?.evidence).toEqual({
            warrants: [],
            redemptions: [],
            fulfilments: [],
            observations: [leaf],
          });
        });
      });

      describe('when a finding was recorded with record ids, before proofs were log indices', () => {
        it('reads its evidence back as log indices', async () => {
          await observeUnapprovedGrant(store, 'o1');
          const denied = await store.transaction(async (tx) =>
            tx.log.append(
              encodeEvent({
                v: 1,
                type: 'redemption.denied',
                at: AT,
                actor: 'intruder',
                links: {},
                data: { code: 'SCOPE_EXCEEDED' },
              }),
            ),
          );
          await integrate();
          const legacy = { fulfilments: [], observations: ['o1'], redemptions: [String(denied)] };
          const finding: Finding = {
            id: 'fnd_legacy' as FindingId,
            key: 'REDEMPTION_ABUSE|wrt_old',
            kind: 'REDEMPTION_ABUSE',
            state: 'open',
            requestId: null,
            warrantId: 'wrt_old',
            subject: '',
            target: null,
            detail: 'from an older release',
            evidence: legacy as unknown as FindingProof,
            raisedAt: AT,
            updatedAt: AT,
            resolution: null,
          };
          await store.transaction(async (tx) => tx.findings.insert(finding, denied));
          const leaves = async (role: 'observations' | 'redemptions', id: string) =>
            (await store.read.reconciliation.leavesOf(role, [id])).get(id);
          expect((await store.read.findings.get('fnd_legacy'))?.evidence).toEqual({
            warrants: [],
            redemptions: [await leaves('redemptions', String(denied))],
            fulfilments: [],
            observations: [await leaves('observations', 'o1')],
          });
        });
      });
    },
  );
}
