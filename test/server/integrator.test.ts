import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { encodeEvent } from '../../src/log/event.js';
import { Integrator } from '../../src/server/integrator.js';
import {
  integrateBatch,
  type IntegrateContext,
  type IntegrateResult,
} from '../../src/service/integrate.js';
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

async function contextOver(store: Store): Promise<IntegrateContext> {
  const clock = new ManualClock('2026-03-01T12:00:00.000Z');
  const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
  return { store, clock, keys: () => ring, origin: 'countersign.test/log' };
}

async function integratorOver(store: Store): Promise<Integrator> {
  const integrator = new Integrator(await contextOver(store), pino({ level: 'silent' }));
  // The key's creation is the log's first event: integrated here, the tests start at size 1.
  await integrator.flush();
  return integrator;
}

/** Holds the log lock in a transaction of its own until `release()` is called. */
async function holdLogLock(store: Store): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((ok) => (release = ok));
  let taken!: () => void;
  const held = new Promise<void>((ok) => (taken = ok));
  const tx = store.transaction(async (t) => {
    await t.log.lock();
    taken();
    await released;
  });
  await held;
  return {
    release: async () => {
      release();
      await tx;
    },
  };
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

    describe.skipIf(dialect.name !== 'postgres')('when another node holds the log lock', () => {
      it('a batch asked not to wait gives up at once and leaves the queue as it was', async () => {
        const ctx = await contextOver(store());
        await queue(store(), 0, 3);
        const lock = await holdLogLock(store());
        let r: IntegrateResult | 'slept';
        try {
          r = await Promise.race([
            integrateBatch(ctx, { unlessBusy: true }),
            sleep(5000, 'slept' as const),
          ]);
        } finally {
          await lock.release();
        }

        expect(r).toEqual({ integrated: 0, full: false, busy: true });
        expect(await store().read.log.queuedCount()).toBe(1 + 3);
        expect(await integrateBatch(ctx, { unlessBusy: true })).toEqual({
          integrated: 1 + 3,
          full: false,
          busy: false,
        });
      });

      it('the timer keeps its turns without waiting, and integrates once it is free', async () => {
        const real = store();
        let turns = 0;
        // The store as it is, counting the integrator's transactions: one per turn taken.
        const counted = new Proxy(real, {
          get(target, prop) {
            if (prop === 'transaction')
              return (fn: Parameters<Store['transaction']>[0]) => {
                turns += 1;
                return target.transaction(fn);
              };
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        const ctx = { ...(await contextOver(real)), store: counted };
        await queue(real, 0, 3);
        const integrator = new Integrator(ctx, pino({ level: 'silent' }), 10);
        const lock = await holdLogLock(real);
        try {
          integrator.start();
          // A turn waiting for the lock would be the only one until the lock is let go.
          await expect.poll(() => turns, { timeout: 5000 }).toBeGreaterThan(3);
          expect(await real.read.log.checkpoints()).toEqual([]);
        } finally {
          await lock.release();
        }
        await expect.poll(() => real.read.log.queuedCount(), { timeout: 5000 }).toBe(0);
        await integrator.stop();
        expect(integrator.health).toMatchObject({ failures: 0, lastError: null });
        expect((await sizes(real)).at(-1)).toBe(1 + 3);
      });
    });

    describe('when no other integrator holds the lock', () => {
      it('a batch asked not to wait integrates as one that waits', async () => {
        const ctx = await contextOver(store());
        await queue(store(), 0, 3);
        expect(await integrateBatch(ctx, { unlessBusy: true })).toEqual({
          integrated: 1 + 3,
          full: false,
          busy: false,
        });
        expect(await sizes(store())).toEqual([1 + 3]);
      });
    });
  });
}
