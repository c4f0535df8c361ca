import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import type { Connector } from '../../src/connectors/connector.js';
import type { ServiceContext } from '../../src/service/context.js';
import type { GrantRow } from '../../src/service/ports/grants.js';
import { sweepRevocations } from '../../src/service/revocations.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';

const due: GrantRow = {
  id: 'rcpt_sweep_1',
  connector: 'appdb',
  warrantId: 'wrt_gone',
  requestId: 'req_1',
  subject: 'svc:agent',
  handle: 'cs_sweep_1',
  fingerprint: null,
  state: 'live',
  dueAt: '2026-03-01T12:00:00.000Z',
  createdAt: '2026-03-01T11:00:00.000Z',
  attempts: 0,
  nextAttemptAt: null,
  lastError: null,
  revokedAt: null,
};

/** A connector whose revocations wait until `release` is called. */
function slowConnector(): { connector: Connector; release: () => void; started: Promise<void> } {
  let release!: () => void;
  let began!: () => void;
  const started = new Promise<void>((ok) => (began = ok));
  const gate = new Promise<void>((ok) => (release = ok));
  const connector = {
    name: 'appdb',
    revoke: async () => {
      began();
      await gate;
    },
  } as unknown as Connector;
  return { connector, release, started };
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`the revocation sweep on ${dialect.name}`, () => {
    const storeOf = storePerTest(dialect, (store) =>
      store.transaction((tx) => tx.grants.insert(due)),
    );

    describe("when one node's revocation outlasts its lease and another node revokes too", () => {
      it('records the grant revoked once, by the node that confirmed first', async () => {
        const store = storeOf();
        const clock = new ManualClock('2026-03-01T12:05:00.000Z');
        const slow = slowConnector();
        const fast = { name: 'appdb', revoke: () => Promise.resolve() } as unknown as Connector;
        const ctxOf = (c: Connector) =>
          ({ store, clock, connectors: new Map([['appdb', c]]) }) as unknown as ServiceContext;
        const a = sweepRevocations(ctxOf(slow.connector), { node: 'a', leaseMs: 60_000 });
        await slow.started;
        clock.advance(61_000);
        const b = await sweepRevocations(ctxOf(fast), { node: 'b', leaseMs: 60_000 });
        slow.release();
        const results = [await a, b];
        expect(results.map((r) => r.revoked).sort()).toEqual([0, 1]);
        const types = (await store.read.log.queuedEvents())
          .map((e) => e.leaf)
          .map((leaf) => (JSON.parse(leaf) as { type: string }).type);
        expect(types.filter((t) => t === 'grant.revoked')).toHaveLength(1);
      });
    });

    describe('when the connector takes its time', () => {
      const ctxOf = (store: ServiceContext['store'], clock: ManualClock, c: Connector) =>
        ({ store, clock, connectors: new Map([['appdb', c]]) }) as unknown as ServiceContext;

      it('records the revocation when the connector confirmed it, not when the sweep began', async () => {
        const store = storeOf();
        const clock = new ManualClock('2026-03-01T12:05:00.000Z');
        const slow = {
          name: 'appdb',
          revoke: () => Promise.resolve(clock.advance(45_000)),
        } as unknown as Connector;
        expect((await sweepRevocations(ctxOf(store, clock, slow), { node: 'a' })).revoked).toBe(1);
        expect((await store.read.grants.get(due.id))?.revokedAt).toBe('2026-03-01T12:05:45.000Z');
        const events = (await store.read.log.queuedEvents())
          .map((e) => e.leaf)
          .map((leaf) => JSON.parse(leaf) as { type: string; at: string });
        expect(events.find((e) => e.type === 'grant.revoked')?.at).toBe('2026-03-01T12:05:45.000Z');
      });

      it('counts the backoff of a failed attempt from the failure', async () => {
        const store = storeOf();
        const clock = new ManualClock('2026-03-01T12:05:00.000Z');
        const failing = {
          name: 'appdb',
          revoke: () => {
            clock.advance(30_000);
            return Promise.reject(new Error('connection reset'));
          },
        } as unknown as Connector;
        expect((await sweepRevocations(ctxOf(store, clock, failing), { node: 'a' })).failed).toBe(
          1,
        );
        // The first retry waits 2 s after the failure at 12:05:30.
        expect((await store.read.grants.get(due.id))?.nextAttemptAt).toBe(
          '2026-03-01T12:05:32.000Z',
        );
      });
    });
  });
}
