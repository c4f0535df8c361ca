import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { record } from '../../src/service/context.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { AT, integrateAll, observeUnapprovedGrant } from '../helpers/unapproved-grant.js';

/** The log size, and whether an incremental pass from `treeSize` must judge callers again. */
const changedSince = async (store: Store, treeSize: number) =>
  store.snapshot((view) => view.reconciliation.changedSubjects({ treeSize, at: AT }));

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `refusals naming no warrant, on the ${dialect.name} store`,
    () => {
      const storeOf = storePerTest(dialect);

      it('make the next incremental pass judge callers again, and only that pass', async () => {
        const store = storeOf();
        const clock = new ManualClock(AT);
        const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
        await observeUnapprovedGrant(store, 'obs_1');
        await integrateAll(store, clock, ring);
        const quiet = await changedSince(store, 0);
        expect(quiet.unattributed).toBe(false);

        await store.transaction((tx) =>
          record(
            tx,
            'redemption.denied',
            clock.now(),
            'deploy-us',
            {},
            { code: 'SIGNATURE_INVALID' },
          ),
        );
        // Still queued, it counts: the pass after its integration must see it.
        expect((await changedSince(store, quiet.treeSize)).unattributed).toBe(true);
        await integrateAll(store, clock, ring);
        const after = await changedSince(store, quiet.treeSize);
        expect(after.unattributed).toBe(true);
        expect((await changedSince(store, after.treeSize)).unattributed).toBe(false);
        expect(
          (await store.snapshot((view) => view.reconciliation.changedSubjects(null))).unattributed,
        ).toBe(true);
      });
    },
  );
}
