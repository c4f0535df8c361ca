import { beforeEach, describe, expect, it } from 'vitest';
import type { GrantRow } from '../../src/service/ports/grants.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { legacyDialects, withLegacy } from './legacy.js';

const at = (minute: number): string => `2026-03-01T12:${String(minute).padStart(2, '0')}:00.000Z`;

let serial = 0;
const grant = (over: Partial<GrantRow> = {}): GrantRow => ({
  id: `rcpt_${++serial}`,
  connector: 'appdb',
  warrantId: 'wrt_1',
  requestId: 'req_1',
  subject: 'svc:agent',
  handle: `cs_${serial}`,
  fingerprint: null,
  state: 'pending',
  dueAt: at(30),
  createdAt: at(0),
  attempts: 0,
  nextAttemptAt: null,
  lastError: null,
  revokedAt: null,
  ...over,
});

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`grants on the ${dialect.name} store`, () => {
    let store: Store;
    const storeOf = storePerTest(dialect);
    beforeEach(() => {
      store = storeOf();
    });

    const insert = async (...rows: GrantRow[]): Promise<void> => {
      await store.transaction(async (tx) => {
        for (const r of rows) await tx.grants.insert(r);
      });
    };
    const get = async (id: string): Promise<GrantRow> => {
      const g = await store.read.grants.get(id);
      if (g === null) throw new Error(`no grant ${id}`);
      return g;
    };
    const claim = (id: string, owner: string, now: string, until: string) =>
      store.transaction((tx) => tx.grants.claim(id, owner, now, until));

    describe('when a grant is inserted', () => {
      it('reads back exactly as written, by id and by warrant', async () => {
        const g = grant({ fingerprint: 'ab'.repeat(32), lastError: 'x', nextAttemptAt: at(5) });
        const other = grant({ warrantId: 'wrt_2' });
        await insert(g, other);
        expect(await store.read.grants.get(g.id)).toEqual(g);
        expect(await store.read.grants.byWarrant('wrt_1')).toEqual([g]);
        expect(await store.read.grants.get('rcpt_missing')).toBeNull();
      });
    });

    describe('when a grant is marked live', () => {
      it('moves it from pending to live with its fingerprint, and only from pending', async () => {
        const g = grant();
        await insert(g);
        const fp = 'cd'.repeat(32);
        expect(await store.transaction((tx) => tx.grants.markLive(g.id, fp))).toBe(true);
        expect(await get(g.id)).toMatchObject({ state: 'live', fingerprint: fp });
        expect(await store.transaction((tx) => tx.grants.markLive(g.id, 'ef'.repeat(32)))).toBe(
          false,
        );
        expect((await get(g.id)).fingerprint).toBe(fp);

        const failed = grant();
        await insert(failed);
        await store.transaction((tx) => tx.grants.markFailed(failed.id, 'connector refused'));
        expect(await store.transaction((tx) => tx.grants.markLive(failed.id, fp))).toBe(false);
        expect(await get(failed.id)).toMatchObject({
          state: 'failed',
          lastError: 'connector refused',
        });
      });

      it('never marks a live grant failed, so it stays on the revocation schedule', async () => {
        const g = grant({ state: 'live' });
        await insert(g);
        await store.transaction((tx) => tx.grants.markFailed(g.id, 'late error'));
        expect((await get(g.id)).state).toBe('live');
      });
    });

    describe('when revocation is brought forward', () => {
      it('only ever moves due_at earlier, for the warrant named', async () => {
        const g = grant({ state: 'live', dueAt: at(30) });
        const other = grant({ state: 'live', warrantId: 'wrt_2', dueAt: at(30) });
        await insert(g, other);
        await store.transaction((tx) => tx.grants.dueBy('wrt_1', at(40)));
        expect((await get(g.id)).dueAt).toBe(at(30));
        await store.transaction((tx) => tx.grants.dueBy('wrt_1', at(10)));
        expect((await get(g.id)).dueAt).toBe(at(10));
        expect((await get(other.id)).dueAt).toBe(at(30));
      });
    });

    describe('when the revocation backlog is read for /readyz', () => {
      it('counts revocable grants past due, those that failed, and the oldest due time', async () => {
        const overdue = grant({ state: 'live', dueAt: at(10) });
        const failing = grant({ state: 'pending', dueAt: at(5), attempts: 2 });
        const notYet = grant({ state: 'live', dueAt: at(50) });
        const done = grant({ state: 'revoked', dueAt: at(1), revokedAt: at(2) });
        await insert(overdue, failing, notYet, done);
        expect(await store.read.grants.backlog(at(20))).toEqual({
          overdue: 2,
          failing: 1,
          oldestDueAt: at(5),
        });
        expect(await store.read.grants.backlog(at(0))).toEqual({
          overdue: 0,
          failing: 0,
          oldestDueAt: null,
        });
      });
    });

    describe('when revoked grants are looked back on', () => {
      it('lists those revoked that fell due since the bound, newest first', async () => {
        const old = grant({ state: 'live', dueAt: at(5) });
        const recent = grant({ state: 'live', dueAt: at(20) });
        const newest = grant({ state: 'live', dueAt: at(25) });
        const stillLive = grant({ state: 'live', dueAt: at(22) });
        await insert(old, recent, newest, stillLive);
        await store.transaction(async (tx) => {
          for (const g of [old, recent, newest]) await tx.grants.markRevoked(g.id, at(30));
        });
        const ids = (await store.read.grants.revokedSince(at(10))).map((g) => g.id);
        expect(ids).toEqual([newest.id, recent.id]);
      });
    });

    describe('when nodes claim a due grant', () => {
      it('lets exactly one of two concurrent claimers win', async () => {
        const g = grant({ state: 'live', dueAt: at(10) });
        await insert(g);
        const won =
          dialect.name === 'postgres'
            ? await Promise.all([
                claim(g.id, 'node-a', at(11), at(12)),
                claim(g.id, 'node-b', at(11), at(12)),
              ])
            : [
                await claim(g.id, 'node-a', at(11), at(12)),
                await claim(g.id, 'node-b', at(11), at(12)),
              ];
        expect(won.filter(Boolean)).toHaveLength(1);
      });

      it('lets another node reclaim it once the lease has lapsed, not before', async () => {
        const g = grant({ state: 'live', dueAt: at(10) });
        await insert(g);
        expect(await claim(g.id, 'node-a', at(11), at(12))).toBe(true);
        expect(await claim(g.id, 'node-b', at(12), at(13))).toBe(false);
        expect(await claim(g.id, 'node-b', at(13), at(14))).toBe(true);
      });

      it('refuses a grant that is not yet due, revoked or failed', async () => {
        const notDue = grant({ state: 'live', dueAt: at(30) });
        const revoked = grant({ state: 'live', dueAt: at(10) });
        const failed = grant({ dueAt: at(10) });
        await insert(notDue, revoked, failed);
        await store.transaction(async (tx) => {
          await tx.grants.markRevoked(revoked.id, at(10));
          await tx.grants.markFailed(failed.id, 'refused');
        });
        for (const g of [notDue, revoked, failed]) {
          expect(await claim(g.id, 'node-a', at(11), at(12))).toBe(false);
        }
      });

      it('waits for next_attempt_at after a failed attempt', async () => {
        const g = grant({ state: 'live', dueAt: at(10) });
        await insert(g);
        expect(await claim(g.id, 'node-a', at(11), at(12))).toBe(true);
        await store.transaction((tx) =>
          tx.grants.recordFailure(g.id, 'node-a', 'unreachable', at(20)),
        );
        expect(await claim(g.id, 'node-a', at(15), at(16))).toBe(false);
        expect(await claim(g.id, 'node-b', at(20), at(21))).toBe(true);
      });
    });

    describe('when revocation attempts fail', () => {
      it("gives up the failing node's own lease, so the retry waits only for next_attempt_at", async () => {
        const g = grant({ state: 'live', dueAt: at(10) });
        await insert(g);
        expect(await claim(g.id, 'node-a', at(11), at(30))).toBe(true);
        await store.transaction((tx) => tx.grants.recordFailure(g.id, 'node-a', 'down', at(12)));
        expect(await claim(g.id, 'node-b', at(12), at(30))).toBe(true);
        // node-a's late report must not free node-b's lease.
        await store.transaction((tx) => tx.grants.recordFailure(g.id, 'node-a', 'down', at(12)));
        expect(await claim(g.id, 'node-c', at(13), at(30))).toBe(false);
      });

      it('counts each attempt and keeps the last error and the next attempt time', async () => {
        const g = grant({ state: 'live', dueAt: at(10) });
        await insert(g);
        await store.transaction((tx) => tx.grants.recordFailure(g.id, 'node-a', 'timeout', at(12)));
        await store.transaction((tx) => tx.grants.recordFailure(g.id, 'node-a', 'refused', at(16)));
        expect(await get(g.id)).toMatchObject({
          attempts: 2,
          lastError: 'refused',
          nextAttemptAt: at(16),
          state: 'live',
        });
      });
    });

    describe('when a grant is revoked', () => {
      it('records the first confirmation only', async () => {
        const g = grant({ state: 'live', dueAt: at(10) });
        await insert(g);
        const first = await store.transaction((tx) => tx.grants.markRevoked(g.id, at(11)));
        const late = await store.transaction((tx) => tx.grants.markRevoked(g.id, at(15)));
        expect([first, late]).toEqual([true, false]);
        expect(await get(g.id)).toMatchObject({ state: 'revoked', revokedAt: at(11) });
      });
    });

    describe('when the sweep asks what is overdue', () => {
      it('picks due live grants, due or stale pending ones, oldest due first, and nothing else', async () => {
        const dueLive = grant({ state: 'live', dueAt: at(20) });
        const earlierLive = grant({ state: 'live', dueAt: at(15) });
        const stalePending = grant({ createdAt: at(1), dueAt: at(25) });
        const freshPending = grant({ createdAt: at(19), dueAt: at(18) });
        const notDue = grant({ state: 'live', dueAt: at(40) });
        const revoked = grant({ state: 'live', dueAt: at(5) });
        const failed = grant({ dueAt: at(5), createdAt: at(0) });
        await insert(dueLive, earlierLive, stalePending, freshPending, notDue, revoked, failed);
        await store.transaction(async (tx) => {
          await tx.grants.markRevoked(revoked.id, at(6));
          await tx.grants.markFailed(failed.id, 'refused');
        });
        const ids = (await store.read.grants.overdue(at(21), at(10))).map((g) => g.id);
        expect(ids).toEqual([earlierLive.id, freshPending.id, dueLive.id, stalePending.id]);
      });

      it('takes at most a hundred at a time', async () => {
        await insert(...Array.from({ length: 101 }, () => grant({ state: 'live', dueAt: at(10) })));
        expect(await store.read.grants.overdue(at(11), at(0))).toHaveLength(100);
      });
    });
  });
}

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 010 on ${dialect}`, () => {
    describe('when a database from before brokered grants is opened', () => {
      it('adds the grants table, which then takes grants', async () => {
        await withLegacy(dialect, '009_idempotent_redemptions', async (l) => {
          const store = await l.openStore();
          try {
            const g = grant();
            await store.transaction((tx) => tx.grants.insert(g));
            expect(await store.read.grants.get(g.id)).toEqual(g);
          } finally {
            await store.close();
          }
        });
      });
    });
  });
}
