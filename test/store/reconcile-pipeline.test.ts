import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { KeyRing } from '../../src/keys/keyring.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import type { ReconcilePlanner } from '../../src/service/reconcile-plan.js';
import { planReconcile } from '../helpers/whole-plan.js';
import { runReconcile } from '../../src/service/reconcile.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { AT, integrateAll, observeUnapprovedGrant } from '../helpers/unapproved-grant.js';

/** Resolves once `done` holds, checking every few milliseconds; fails after 5 s. */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i += 1) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition never held');
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `a reconciliation pass on the ${dialect.name} store, slice by slice`,
    () => {
      let ring: KeyRing;
      const clock = new ManualClock(AT);
      const current = storePerTest(dialect, async (s) => {
        ring = await loadOrCreateKeyRing(s, randomBytes(32), clock);
        for (const id of ['o1', 'o2', 'o3']) await observeUnapprovedGrant(s, id);
        await integrateAll(s, clock, ring);
      });
      let store: Store;
      beforeEach(() => {
        store = current();
      });
      const recorded = async () => (await store.read.findings.list(undefined, 10)).length;

      /** The whole plan, handed over in parts of one finding each. */
      const inParts =
        (between: (handed: number) => Promise<void>): ReconcilePlanner =>
        async (params, onSlice) => {
          const whole = await planReconcile(store, params);
          expect(whole.raise).toHaveLength(3);
          for (const [i, r] of whole.raise.entries()) {
            if (i > 0) await between(i);
            onSlice({ raise: [r], reopen: [], resolve: [], deferred: 0, scanned: 1 });
          }
          return { treeSize: 0, subjects: whole.raise.length };
        };

      describe('when the planner is still making the next slice', () => {
        it('has already written the findings of the slices it handed over', async () => {
          // Each part waits for the one before to be in the store: a pass that wrote only
          // once the whole plan was made would never finish.
          const planner = inParts((handed) => until(async () => (await recorded()) === handed));
          const summary = await runReconcile({
            store,
            clock,
            integrateLog: () => integrateAll(store, clock, ring),
            reconcile: { planner },
          });
          expect(summary).toMatchObject({ raised: 3, deferred: 0, scanned: 3 });
          expect(await recorded()).toBe(3);
        });
      });

      describe('when it raises several findings at its one instant', () => {
        it('names them with ids that sort as text in the order they were raised', async () => {
          const planner = inParts(() => Promise.resolve());
          const summary = await runReconcile({
            store,
            clock,
            integrateLog: () => integrateAll(store, clock, ring),
            reconcile: { planner },
          });
          expect(summary.findings).toHaveLength(3);
          expect([...summary.findings].sort()).toEqual(summary.findings);
          const time = clock.now().getTime().toString(36).padStart(9, '0');
          for (const id of summary.findings) expect(id.startsWith(`fnd_${time}`)).toBe(true);
        });
      });

      describe('when the planner fails after handing over a slice', () => {
        it('fails the pass with its error, keeping what was written whole, and the next pass finishes', async () => {
          const planner = inParts(() => Promise.reject(new Error('planner lost its snapshot')));
          const pass = () =>
            runReconcile({
              store,
              clock,
              integrateLog: () => integrateAll(store, clock, ring),
              reconcile: { planner },
            });
          await expect(pass()).rejects.toThrow('planner lost its snapshot');
          const [first] = await store.read.findings.list(undefined, 10);
          expect(first?.evidence.observations).toHaveLength(1);
          expect(await recorded()).toBe(1);

          const next = await runReconcile({
            store,
            clock,
            integrateLog: () => integrateAll(store, clock, ring),
          });
          expect(next).toMatchObject({ raised: 2 });
          expect(await recorded()).toBe(3);
        });
      });
    },
  );
}
