import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestId, WarrantId } from '../../src/core/ids.js';
import { encodeEvent } from '../../src/log/event.js';
import type { SpentUse, UseSpend } from '../../src/service/ports/spend.js';
import type { Store } from '../../src/service/ports/store.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { spendUsesStatement } from '../../src/store/postgres/spend-batch.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { POSTGRES_UNAVAILABLE, sharedPostgres } from '../helpers/postgres.js';
import { allowedEvent, RID, seedSpends, spendOf } from '../helpers/spends.js';
import { request, warrant } from '../helpers/store-rows.js';

/** A request of its own for each warrant but the first (a request has one warrant). */
const ridOf = (wid: string): string =>
  wid === 'wrt_1' || wid === 'wrt_w'
    ? RID
    : `sha256:${createHash('sha256').update(wid).digest('hex')}`;

const issue = (store: Store, wid: string, maxUses: number) =>
  store.transaction(async (tx) => {
    if (ridOf(wid) !== RID) await tx.requests.insert({ ...request(ridOf(wid)), state: 'approved' });
    await tx.warrants.insert(warrant(wid, ridOf(wid), maxUses));
  });

const spend = (wid: string, max: number, over: Partial<UseSpend> = {}) =>
  spendOf(wid, max, over, ridOf(wid));

/** Each allowed use's event holds exactly the leaf `encodeEvent` makes for it. */
async function expectLeaves(store: Store, wid: string, spent: readonly (SpentUse | null)[]) {
  for (const s of spent) {
    if (s === null) continue;
    const expected = encodeEvent(allowedEvent(wid, ridOf(wid))(s.use)).leaf;
    expect(await store.read.log.eventLeaf(s.eventId)).toBe(expected);
  }
}

// On PostgreSQL a crowd of concurrent spends goes to the database in batches (decision
// 0027); on SQLite through its group commit. Both must give the same uses.
for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`spendUse under a crowd, ${dialect.name}`, () => {
    const current = storePerTest(dialect, seedSpends);
    let store: Store;
    beforeEach(() => {
      store = current();
    });

    it('gives each warrant its uses once, numbered in order, each with its own event', async () => {
      const warrants = ['wrt_a', 'wrt_b', 'wrt_c', 'wrt_d', 'wrt_e', 'wrt_f'];
      for (const w of warrants) await issue(store, w, 4);
      // Seven callers for each warrant's four uses, interleaved.
      const crowd = Array.from({ length: 7 }, () => warrants).flat();
      const spent = await Promise.all(crowd.map((w) => store.spendUse(spend(w, 4))));
      for (const w of warrants) {
        const mine = spent.filter((_, i) => crowd[i] === w);
        expect(mine.flatMap((s) => (s ? [s.use] : [])).sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
        await expectLeaves(store, w, mine);
        const rows = await store.read.warrants.redemptions(w as WarrantId);
        expect(rows.map((r) => r.useNumber ?? 0).sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
        for (const r of rows) {
          expect(mine.find((s) => s?.use === r.useNumber)?.eventId).toBe(r.eventId);
        }
        expect((await store.read.warrants.get(w as WarrantId))?.uses).toBe(4);
      }
      // Four allowed events per warrant, then its exhausted event after its last use.
      const queued = await store.transaction((tx) => tx.log.pending(100));
      expect(queued).toHaveLength(6 * 4 + 6);
      for (const w of warrants) {
        const last = spent.find((s, i) => crowd[i] === w && s?.use === 4);
        const exhausted = queued.filter((e) => e.leafHash === spend(w, 4).exhausted().leafHash);
        expect(exhausted).toHaveLength(1);
        expect(exhausted[0]?.id).toBeGreaterThan(last?.eventId ?? Infinity);
      }
    });

    it('leaves no gap in the uses when spends in the crowd fall outside the window', async () => {
      await issue(store, 'wrt_w', 10);
      const at = [
        undefined,
        '2025-12-31T23:59:59.999Z',
        undefined,
        '2026-01-01T08:00:00.000Z',
        undefined,
      ];
      const spent = await Promise.all(
        at.map((a) => store.spendUse(spend('wrt_w', 10, a === undefined ? {} : { at: a }))),
      );
      expect(spent.map((s) => s?.use ?? null)).toEqual([1, null, 2, null, 3]);
      await expectLeaves(store, 'wrt_w', spent);
      expect((await store.read.warrants.get('wrt_w' as WarrantId))?.uses).toBe(3);
    });
  });
}

describe.skipIf(POSTGRES_UNAVAILABLE !== null)('the batch statement on PostgreSQL', () => {
  let store: Store;
  let client: pg.Client;
  beforeAll(async () => {
    const url = await (await sharedPostgres()).createDatabase('spend_batch');
    store = await openPostgresStore({ url });
    await seedSpends(store);
    client = new pg.Client({ connectionString: url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await store?.close();
  });

  it('numbers only the spends that pass, and gives none past either max_uses', async () => {
    await issue(store, 'wrt_1', 10);
    await issue(store, 'wrt_2', 2);
    await issue(store, 'wrt_3', 5);
    await issue(store, 'wrt_4', 10);
    const other = ('sha256:' + 'd'.repeat(64)) as RequestId;
    const spent = await spendUsesStatement(client, [
      spend('wrt_1', 10),
      spend('wrt_1', 10, { requestId: other }),
      spend('wrt_1', 10, { at: '2026-01-01T08:00:00.000Z' }),
      spend('wrt_1', 10),
      spend('wrt_2', 3),
      spend('wrt_2', 3),
      spend('wrt_2', 3),
      spend('wrt_never', 3),
      spend('wrt_3', 1),
      spend('wrt_3', 1),
      // Signed bounds that differ (the queue never sends these together): the lowest holds.
      spend('wrt_4', 10),
      spend('wrt_4', 1),
      spend('wrt_4', 10),
    ]);
    expect(spent.map((s) => s?.use ?? null)).toEqual([
      1,
      null,
      null,
      2,
      1,
      2,
      null,
      null,
      1,
      null,
      1,
      null,
      null,
    ]);
    await expectLeaves(store, 'wrt_1', spent.slice(0, 4));
    await expectLeaves(store, 'wrt_2', spent.slice(4, 7));
    await expectLeaves(store, 'wrt_3', spent.slice(8, 10));
    await expectLeaves(store, 'wrt_4', spent.slice(10));
    expect((await store.read.warrants.get('wrt_1' as WarrantId))?.uses).toBe(2);
    // The row's max_uses (2) ends wrt_2 below the signed 3: no exhausted event for it.
    expect((await store.read.warrants.get('wrt_2' as WarrantId))?.uses).toBe(2);
    // The signed max_uses (1) ends wrt_3 below the row's 5: its use is its last.
    expect((await store.read.warrants.get('wrt_3' as WarrantId))?.uses).toBe(1);
    expect((await store.read.requests.get(ridOf('wrt_3') as RequestId))?.state).toBe('exhausted');
    expect((await store.read.warrants.get('wrt_4' as WarrantId))?.uses).toBe(1);
    expect(await store.read.log.queuedCount()).toBe(7);
    const again = await spendUsesStatement(client, [spend('wrt_2', 3), spend('wrt_1', 3)]);
    expect(again.map((s) => s?.use ?? null)).toEqual([null, 3]);
  });

  it('spends each use once when two nodes send batches over the same warrants', async () => {
    const url = await (await sharedPostgres()).createDatabase('spend_two');
    const batches: string[] = [];
    const observeSpendBatch = (size: number, outcome: string) => batches.push(`${size} ${outcome}`);
    const nodes = [
      await openPostgresStore({ url, observeSpendBatch }),
      await openPostgresStore({ url, observeSpendBatch }),
    ];
    try {
      await seedSpends(nodes[0] as Store);
      const warrants = ['wrt_p', 'wrt_q', 'wrt_r', 'wrt_s'];
      for (const w of warrants) await issue(nodes[0] as Store, w, 5);
      const crowd = Array.from({ length: 12 }, () => warrants).flat();
      const spent = await Promise.all(
        crowd.map((w, i) => (nodes[i % 2] as Store).spendUse(spend(w, 5))),
      );
      for (const w of warrants) {
        const uses = spent.filter((_, i) => crowd[i] === w).flatMap((s) => (s ? [s.use] : []));
        expect(uses.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
        await expectLeaves(
          nodes[1] as Store,
          w,
          spent.filter((_, i) => crowd[i] === w),
        );
      }
      expect(await (nodes[1] as Store).read.log.queuedCount()).toBe(4 * 5 + 4);
      // Each node sent its crowd as batches, and PostgreSQL wrote every one.
      expect(batches.length).toBeGreaterThanOrEqual(2);
      expect(batches.every((b) => b.endsWith(' written'))).toBe(true);
    } finally {
      for (const n of nodes) await n.close();
    }
  });

  it('runs a rolled-back batch again spend by spend, so only the faulty spend fails', async () => {
    const url = await (await sharedPostgres()).createDatabase('spend_fallback');
    const batches: string[] = [];
    const node = await openPostgresStore({
      url,
      retry: { attempts: 2, uniqueAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
      observeSpendBatch: (size, outcome) => batches.push(`${size} ${outcome}`),
    });
    try {
      await seedSpends(node);
      for (const w of ['wrt_f1', 'wrt_f2', 'wrt_f3']) await issue(node, w, 5);
      const taken = spend('wrt_f1', 5);
      expect((await node.spendUse(taken))?.use).toBe(1);
      // The first goes alone; the next three go as one batch, which the taken receipt id
      // rolls back (a unique violation).
      const [first, ...rest] = await Promise.allSettled([
        node.spendUse(spend('wrt_f2', 5)),
        node.spendUse(spend('wrt_f3', 5)),
        node.spendUse(spend('wrt_f1', 5, { redemption: taken.redemption })),
        node.spendUse(spend('wrt_f2', 5)),
      ]);
      expect(batches).toEqual(['3 rolled back']);
      expect(first).toMatchObject({ status: 'fulfilled', value: { use: 1 } });
      expect(rest[0]).toMatchObject({ status: 'fulfilled', value: { use: 1 } });
      expect(rest[1]).toMatchObject({ status: 'rejected', reason: { code: '23505' } });
      expect(rest[2]).toMatchObject({ status: 'fulfilled', value: { use: 2 } });
      expect((await node.read.warrants.get('wrt_f1' as WarrantId))?.uses).toBe(1);
    } finally {
      await node.close();
    }
  });
});
