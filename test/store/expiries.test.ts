import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { runReconcile } from '../../src/service/reconcile.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { nhi, request, warrant } from '../helpers/store-rows.js';

const IDS = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((n) => `wrt_${n}`);
const AT = '2026-01-02T00:00:00.000Z';

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `recording expiries on the ${dialect.name} store`,
    () => {
      const store = storePerTest(dialect, (s) =>
        s.transaction(async (tx) => {
          await tx.nhis.insert(nhi);
          for (const id of IDS) {
            await tx.requests.insert({ ...request(`req_${id}`), state: 'approved' });
            await tx.warrants.insert(warrant(id, `req_${id}`, 1));
          }
        }),
      );

      const mark = (ids: readonly string[]) =>
        store().transaction((tx) => tx.reconciliation.markExpiriesRecorded(ids, AT));

      describe('when two passes mark overlapping warrants at once', () => {
        it('marks each expiry exactly once, whichever pass gets there first', async () => {
          const [a, b] = await Promise.all([mark(IDS.slice(0, 4)), mark(IDS.slice(2))]);
          expect([...a].filter((id) => b.has(id))).toEqual([]);
          expect([...a, ...b].sort()).toEqual(IDS);
          expect(await mark(IDS)).toEqual(new Set());
          expect(await store().read.reconciliation.warrantsToExpire(AT, null, 100)).toEqual({
            due: [],
            next: null,
          });
        });
      });

      describe('when some expiries were recorded before', () => {
        it('returns only the warrants this call marked', async () => {
          await mark(['wrt_w2']);
          expect(await mark(['wrt_w1', 'wrt_w2', 'wrt_w3'])).toEqual(new Set(['wrt_w1', 'wrt_w3']));
          expect(await mark([])).toEqual(new Set());
          const { due } = await store().read.reconciliation.warrantsToExpire(AT, null, 100);
          expect(due.map((w) => w.warrantId)).toEqual(['wrt_w4', 'wrt_w5', 'wrt_w6']);
        });
      });

      describe('when more warrants are due than one page of a pass holds', () => {
        it('records every expiry once, each with its event, and none again on the next pass', async () => {
          const due = 2_345; // two full pages of 1,000 and a part
          await store().transaction(async (tx) => {
            for (let i = 0; i < due + 5; i++) {
              const id = `wrt_p${String(i).padStart(5, '0')}`;
              await tx.requests.insert({ ...request(`req_${id}`), state: 'approved' });
              // The last five end after the pass: not due.
              const later = i >= due ? { notAfter: '2026-01-03T00:00:00.000Z' } : {};
              await tx.warrants.insert({ ...warrant(id, `req_${id}`, 1), ...later });
            }
          });
          const pass = () =>
            runReconcile({
              store: store(),
              clock: new ManualClock(AT),
              integrateLog: () => Promise.resolve(),
              // Only the expiries are under test: these bare rows carry no grant to judge.
              reconcile: { planner: () => Promise.resolve({ treeSize: 0, subjects: 0 }) },
            });
          // The six warrants the suite seeds are due too.
          expect((await pass()).expired).toBe(due + IDS.length);
          const expired = (await store().read.log.queuedEvents())
            .map((e) => e.leaf)
            .map((leaf) => JSON.parse(leaf) as { type: string; links: { warrant: string } })
            .filter((e) => e.type === 'warrant.expired')
            .map((e) => e.links.warrant);
          expect(expired).toHaveLength(due + IDS.length);
          expect(new Set(expired).size).toBe(due + IDS.length);
          expect(expired).not.toContain(`wrt_p${String(due).padStart(5, '0')}`);
          expect((await pass()).expired).toBe(0);
        });
      });

      describe('when one batch of expiries fails to commit', () => {
        /** The store, with the third transaction failing after its writes, as a failed commit would, and `waiting` work queued beside the pass. */
        const failingThird = (waiting: number) => {
          let calls = 0;
          const transaction: Store['transaction'] = (fn) =>
            store().transaction(async (tx) => {
              const value = await fn(tx);
              calls += 1;
              if (calls === 3) throw new Error('disk full');
              return value;
            });
          const failing = new Proxy(store(), {
            get: (target, key) => {
              if (key === 'transaction') return transaction;
              if (key === 'poolUsage') return () => ({ inUse: 1, idle: 0, waiting });
              const value: unknown = Reflect.get(target, key, target);
              return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
            },
          });
          return { failing, calls: () => calls };
        };
        const pass = (s: Store) =>
          runReconcile({
            store: s,
            clock: new ManualClock(AT),
            integrateLog: () => Promise.resolve(),
            reconcile: { planner: () => Promise.resolve({ treeSize: 0, subjects: 0 }) },
          });
        const seed494 = () =>
          store().transaction(async (tx) => {
            for (let i = 0; i < 494; i++) {
              const id = `wrt_f${String(i).padStart(3, '0')}`;
              await tx.requests.insert({ ...request(`req_${id}`), state: 'approved' });
              await tx.warrants.insert(warrant(id, `req_${id}`, 1));
            }
          });
        const expiredEvents = async () =>
          (await store().read.log.queuedEvents())
            .map((e) => e.leaf)
            .map((leaf) => JSON.parse(leaf) as { type: string; links: { warrant: string } })
            .filter((e) => e.type === 'warrant.expired')
            .map((e) => e.links.warrant);

        it('while requests are queued, fails the pass with its error, keeps the batches before it and writes none after', async () => {
          await seed494();
          // 500 due: five batches of 100. With requests queued, each batch waits for the one
          // before to be durable (pipelined-writes.ts), so none is written after the failure.
          const { failing, calls } = failingThird(1);
          await expect(pass(failing)).rejects.toThrow('disk full');
          expect(calls()).toBe(3);
          const { due } = await store().read.reconciliation.warrantsToExpire(AT, null, 1000);
          expect(due).toHaveLength(300);
          expect(await expiredEvents()).toHaveLength(200);
        });

        it('with nothing else queued, fails the pass with its error, and every expiry recorded has its one event', async () => {
          await seed494();
          const { failing } = failingThird(0);
          await expect(pass(failing)).rejects.toThrow('disk full');
          const { due } = await store().read.reconciliation.warrantsToExpire(AT, null, 1000);
          const recorded = await expiredEvents();
          // Batches one and two are kept, the third is not; those submitted before its failure
          // was known may have committed too.
          expect(due.length).toBeGreaterThanOrEqual(100);
          expect(recorded.length + due.length).toBe(500);
          expect(recorded.filter((w) => due.some((d) => d.warrantId === w))).toEqual([]);
          // The next pass records the rest, each once.
          expect((await pass(store())).expired).toBe(due.length);
          const all = await expiredEvents();
          expect(all).toHaveLength(500);
          expect(new Set(all).size).toBe(500);
        });
      });
    },
  );
}
