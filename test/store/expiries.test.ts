import { describe, expect, it } from 'vitest';
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
          expect(await store().read.reconciliation.warrantsToExpire(AT)).toEqual([]);
        });
      });

      describe('when some expiries were recorded before', () => {
        it('returns only the warrants this call marked', async () => {
          await mark(['wrt_w2']);
          expect(await mark(['wrt_w1', 'wrt_w2', 'wrt_w3'])).toEqual(new Set(['wrt_w1', 'wrt_w3']));
          expect(await mark([])).toEqual(new Set());
          const due = await store().read.reconciliation.warrantsToExpire(AT);
          expect(due.map((w) => w.warrantId).sort()).toEqual(['wrt_w4', 'wrt_w5', 'wrt_w6']);
        });
      });
    },
  );
}
