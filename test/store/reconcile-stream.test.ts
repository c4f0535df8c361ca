import { beforeEach, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/observation/observation.js';
import { ALL_SUBJECTS } from '../../src/service/ports/subjects.js';
import { reconcile } from '../../src/reconcile/reconcile.js';
import { claimsIn, planSlices } from '../../src/service/reconcile-plan.js';
import { planReconcile } from '../helpers/whole-plan.js';
import { runReconcile } from '../../src/service/reconcile.js';
import type { Store } from '../../src/service/ports/store.js';
import { ManualClock } from '../../src/core/clock.js';
import { factKey } from '../../src/observation/observation.js';
import { seedStore } from '../../bench/seed.js';
import { wholeInput } from '../../bench/whole-input.js';
import { generateReconcileInput } from '../fixtures/reconcile-input.js';
import { BASE, denseInput, keptObservations, MINUTE } from '../fixtures/dense-history.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

/** The pass as it was before slices: every row of every table, then the pure reconciler. */
async function wholeHistory(store: Store, now: Date, driftGraceMs: number) {
  return store.snapshot(async (view) =>
    reconcile({ ...(await wholeInput(view, now)), driftGraceMs }),
  );
}

const byKey = <T extends { readonly key: string }>(xs: readonly T[]): T[] =>
  [...xs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `streamed reconciliation on the ${dialect.name} store`,
    () => {
      let store: Store;
      const storeOf = storePerTest(dialect);
      beforeEach(() => {
        store = storeOf();
      });

      /** Streamed and whole-history passes agree at `now`, findings and resolutions alike. */
      async function expectSamePlan(now: Date, driftGraceMs: number) {
        const whole = await wholeHistory(store, now, driftGraceMs);
        const plan = await planReconcile(store, {
          now: now.toISOString(),
          driftGraceMs,
          subjectsPerSlice: 3,
        });
        expect(byKey(plan.raise.map((r) => r.finding))).toEqual(byKey(whole.raise));
        expect(byKey(plan.resolve)).toEqual(byKey(whole.resolve));
        const reopened = (rs: readonly { findingId: string; finding: { key: string } }[]) =>
          byKey(rs.map((r) => ({ key: r.finding.key, id: r.findingId, finding: r.finding })));
        expect(reopened(plan.reopen)).toEqual(reopened(whole.reopen));
        return { whole, plan };
      }

      async function passAt(now: Date) {
        await runReconcile({
          store,
          clock: new ManualClock(now),
          integrateLog: () => Promise.resolve(),
          reconcile: {
            planner: (p, onSlice) => planSlices(store, { ...p, subjectsPerSlice: 3 }, onSlice),
          },
        });
      }

      describe('when the history of every fact is read', () => {
        it('returns exactly the newest, the ends of each run and the limits of each claim', async () => {
          const input = denseInput(3);
          await seedStore(store, input);
          const all = await store.read.observations.list();
          const fulfilments = await store.read.fulfilments.list();
          const ids = (os: readonly Observation[]) => os.map((o) => o.id).sort();
          const read: Observation[] = [];
          let page = await store.read.observations.latest(ALL_SUBJECTS, null, 7);
          read.push(...page.observations);
          while (page.next !== null) {
            page = await store.read.observations.latest(ALL_SUBJECTS, page.next, 7);
            read.push(...page.observations);
          }
          const latest = new Set(read.map((o) => o.id));
          expect(latest.size).toBe(read.length);
          const claims = claimsIn(fulfilments);
          // Through a snapshot, as the planner reads (on SQLite, the ordered scan).
          const forRules = (cs: typeof claims) =>
            store.snapshot((view) => view.observations.forRules(ALL_SUBJECTS, cs));
          const kept = await forRules(claims);
          expect(kept.map((o) => o.id)).toEqual(expect.arrayContaining([...latest]));
          // Each row once, and exactly what the plain reading of the whole history keeps.
          expect(ids(kept)).toEqual([...new Set(ids(kept))]);
          expect(ids(kept)).toEqual(ids(keptObservations(all, fulfilments)));
          // Without the claims only the runs are kept (PostgreSQL reads the claims itself).
          expect(ids(keptObservations(all, fulfilments, false))).not.toEqual(ids(kept));
          if (dialect.name === 'sqlite')
            expect(ids(await forRules([]))).toEqual(ids(keptObservations(all, fulfilments, false)));
          // The newest per fact is one row per fact, and is what keptObservations keeps last.
          const facts = new Set(
            all.map((o) => JSON.stringify([o.subject, o.target, factKey(o.fact)])),
          );
          expect(latest.size).toBe(facts.size);
        });
      });

      describe('when every rule has work in a dense history', () => {
        it('raises and resolves exactly what a pass over every observation does, at every instant', async () => {
          await seedStore(store, denseInput(11));
          let raised = 0;
          for (const minutes of [40, 70, 100, 130, 160, 400]) {
            const now = new Date(BASE + minutes * MINUTE);
            for (const grace of [0, 10 * MINUTE])
              raised += (await expectSamePlan(now, grace)).whole.raise.length;
            // Recorded findings make the next instant resolve some of them.
            await passAt(now);
          }
          expect(raised).toBeGreaterThan(50);
        });
      });

      describe('when the state is the generated benchmark shape', () => {
        it('agrees with the whole-history pass, with many slices', async () => {
          const input = generateReconcileInput(400, 8_000, 5);
          await seedStore(store, input);
          const mid = new Date(Date.parse(input.grants[200]?.notBefore ?? '') + 30 * MINUTE);
          const { plan } = await expectSamePlan(input.now, 15 * MINUTE);
          expect(plan.raise.length).toBeGreaterThan(100);
          // Fewer rows are read than the store holds: old sightings of an unchanged value are left out.
          expect(plan.scanned).toBeLessThan(8_000 + 400 * 4);
          await expectSamePlan(mid, 15 * MINUTE);
        });
      });
    },
  );
}
