import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { encodeEvent } from '../../src/log/event.js';
import { Integrator } from '../../src/server/integrator.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

const event = (n: number) =>
  encodeEvent({
    v: 1,
    type: 'nhi.registered',
    at: '2026-03-01T12:00:00.000Z',
    actor: 'admin',
    links: { nhi: `svc:n${n}` },
    data: { n },
  });

const queue = (store: Store, from: number, count: number) =>
  store.transaction((tx) =>
    tx.log.appendMany(Array.from({ length: count }, (_, i) => event(from + i))),
  );

async function integratorOver(store: Store): Promise<Integrator> {
  const clock = new ManualClock('2026-03-01T12:00:00.000Z');
  const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
  const ctx = { store, clock, keys: () => ring, origin: 'countersign.test/log' };
  const integrator = new Integrator(ctx, pino({ level: 'silent' }));
  // The key's creation is the log's first event: integrated here, the tests start at size 1.
  await integrator.flush();
  return integrator;
}

const sizes = async (store: Store) => (await store.read.log.checkpoints()).map((c) => c.size);

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`the log integrator on ${dialect.name}`, () => {
    const store = storePerTest(dialect);

    describe('when events keep arriving while it flushes', () => {
      it('integrates what was queued before the call under one checkpoint, not one per arrival', async () => {
        const integrator = await integratorOver(store());
        await queue(store(), 0, 20);
        let arrived = 0;
        let flushed = false;
        const arrivals = (async () => {
          // Bounded, so that a flush looping until the queue is empty still ends.
          while (!flushed && arrived < 200) await queue(store(), 20 + arrived++, 1);
        })();
        await integrator.flush();
        flushed = true;
        await arrivals;

        const [first, flushedAt, ...more] = await sizes(store());
        expect([first, more]).toEqual([1, []]);
        expect(flushedAt).toBeGreaterThanOrEqual(1 + 20);
        expect(flushedAt).toBeLessThanOrEqual(1 + 20 + arrived);
      });
    });

    describe('when more is queued than one batch takes', () => {
      it('integrates all of it, one full batch and then the rest', async () => {
        const integrator = await integratorOver(store());
        await queue(store(), 0, 4096 + 5);
        await integrator.flush();

        expect(await sizes(store())).toEqual([1, 1 + 4096, 1 + 4096 + 5]);
        expect(await store().read.log.queuedCount()).toBe(0);
      });
    });

    describe('when nothing is queued', () => {
      it('signs no checkpoint', async () => {
        const integrator = await integratorOver(store());
        await integrator.flush();
        expect(await sizes(store())).toEqual([1]);
      });
    });
  });
}
