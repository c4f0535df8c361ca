import { describe, expect, it, vi } from 'vitest';
import { encodeEvent, type EncodedEvent } from '../../src/log/event.js';
import { batchesOf } from '../../src/core/batches.js';
import { writeInTurn } from '../../src/service/pipelined-writes.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

const AT = '2026-03-01T12:00:00.000Z';

const expired = (n: number): EncodedEvent =>
  encodeEvent({
    v: 1,
    type: 'warrant.expired',
    at: AT,
    actor: 'countersign',
    links: { warrant: `wrt_${n}` },
    data: { notAfter: AT },
  });

/** The warrants named by the events still queued, in the order they were appended. */
const queuedWarrants = async (store: Store): Promise<string[]> =>
  (await store.read.log.queuedEvents())
    .map((e) => e.leaf)
    .map((leaf) => (JSON.parse(leaf) as { links: { warrant: string } }).links.warrant);

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(
    `writes in turn on the ${dialect.name} store`,
    () => {
      const store = storePerTest(dialect);

      /** The store, with acknowledgements held back in `held` (as a slow disk would hold a sync) and `waiting` work reported queued beside. */
      const holding = (
        held: (() => void)[],
        waiting: number,
      ): Pick<Store, 'transaction' | 'poolUsage'> => ({
        transaction: (fn) =>
          store()
            .transaction(fn)
            .then((v) => new Promise((ok) => held.push(() => ok(v)))),
        poolUsage: () => ({ inUse: 0, idle: 1, waiting }),
      });

      const append = (tx: Parameters<Parameters<Store['transaction']>[0]>[0], batch: number[]) =>
        tx.log.appendMany(batch.map(expired));

      it('writes every batch in order and returns each result once all are written', async () => {
        const numbers = Array.from({ length: 23 }, (_, i) => i);
        const ids = await writeInTurn(store(), batchesOf(numbers, 5), append);
        expect(ids.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
        expect(ids.flat()).toEqual([...ids.flat()].sort((a, b) => a - b));
        expect(await queuedWarrants(store())).toEqual(numbers.map((n) => `wrt_${n}`));
      });

      it('with nothing else queued, starts the next batch before the last is acknowledged, but never more than four ahead', async () => {
        const held: (() => void)[] = [];
        const slow = holding(held, 0);
        const numbers = Array.from({ length: 12 }, (_, i) => i);
        const written = writeInTurn(slow, batchesOf(numbers, 2), append);
        await vi.waitFor(() => expect(held).toHaveLength(4));
        await new Promise((r) => setTimeout(r, 50));
        expect(held).toHaveLength(4);
        expect(await queuedWarrants(store())).toHaveLength(8);
        while (held.length > 0 || (await queuedWarrants(store())).length < 12) {
          held.shift()?.();
          await new Promise((r) => setTimeout(r, 5));
        }
        await vi.waitFor(() => expect(held).toHaveLength(0));
        expect((await written).flat()).toHaveLength(12);
      });

      it('waits for each batch to be acknowledged while other work is queued for the store', async () => {
        const held: (() => void)[] = [];
        const busy = holding(held, 3);
        const numbers = Array.from({ length: 6 }, (_, i) => i);
        const written = writeInTurn(busy, batchesOf(numbers, 2), append);
        for (let batch = 1; batch <= 3; batch++) {
          await vi.waitFor(() => expect(held).toHaveLength(1));
          await new Promise((r) => setTimeout(r, 50));
          expect(held).toHaveLength(1);
          expect(await queuedWarrants(store())).toHaveLength(2 * batch);
          held.shift()?.();
        }
        expect((await written).flat()).toHaveLength(6);
      });

      it('rolls back the batch that fails alone, writes none after it, and throws its error', async () => {
        const numbers = Array.from({ length: 10 }, (_, i) => i);
        const failing = writeInTurn(store(), batchesOf(numbers, 2), async (tx, batch) => {
          const ids = await append(tx, batch);
          if (batch.includes(4)) throw new Error('connector refused');
          return ids;
        });
        await expect(failing).rejects.toThrow('connector refused');
        expect(await queuedWarrants(store())).toEqual(['wrt_0', 'wrt_1', 'wrt_2', 'wrt_3']);
      });
    },
  );
}
