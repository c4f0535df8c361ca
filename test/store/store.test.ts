import { beforeEach, describe, expect, it } from 'vitest';
import type { NhiId, RequestId, WarrantId } from '../../src/core/ids.js';
import { encodeEvent } from '../../src/log/event.js';
import { nhiKey } from '../../src/nhi/key.js';
import type { RequestState } from '../../src/request/request.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { nhi, request, warrant } from '../helpers/store-rows.js';

const event = (type: 'nhi.registered' | 'request.created') =>
  encodeEvent({ v: 1, type, at: '2026-01-01T00:00:00.000Z', actor: 'test', links: {}, data: {} });

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`the ${dialect.name} store`, () => {
    let store: Store;
    const storeOf = storePerTest(dialect);
    beforeEach(async () => {
      store = storeOf();
      await store.transaction(async (tx) => {
        await tx.nhis.insert(nhi);
        await tx.requests.insert(request('sha256:' + 'a'.repeat(64)));
      });
    });

    describe('when a transaction fails after writing', () => {
      it('keeps neither the state change nor its event', async () => {
        const eventsBefore = await store.transaction(async (tx) =>
          tx.log.append(event('nhi.registered')),
        );
        await expect(
          store.transaction(async (tx) => {
            await tx.nhis.insert({ ...nhi, id: 'svc:rolled-back' as NhiId });
            await tx.log.append(event('nhi.registered'));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.read.nhis.get('svc:rolled-back' as NhiId)).toBeNull();
        // Only the first event is queued. (Ids need not be dense: a PostgreSQL sequence
        // value taken by a rolled-back insert is not given back.)
        expect(await store.read.log.queuedCount()).toBe(1);
        const next = await store.transaction(async (tx) => tx.log.append(event('request.created')));
        expect(next).toBeGreaterThan(eventsBefore);
        expect(await store.read.log.queuedCount()).toBe(2);
      });
    });

    describe('when a batch of events is appended at once', () => {
      it('queues them in order, more than one statement holds, each id matching its leaf', async () => {
        const batch = Array.from({ length: 1_234 }, (_, i) =>
          encodeEvent({
            v: 1,
            type: 'finding.raised',
            at: '2026-01-01T00:00:00.000Z',
            actor: 'test',
            links: {},
            data: { n: i },
          }),
        );
        const ids = await store.transaction((tx) => tx.log.appendMany(batch));
        expect(ids).toHaveLength(batch.length);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
        const queued = (await store.read.log.queuedEvents()).map((e) => e.leaf);
        expect(queued).toEqual(batch.map((e) => e.leaf));
        for (const k of [0, 499, 500, 1_233]) {
          expect(await store.read.log.eventLeaf(ids[k]!)).toBe(batch[k]!.leaf);
        }
      });
    });

    describe('when many transactions run at once and some of them fail', () => {
      it('keeps exactly the writes of those that succeeded, each with its event', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 60 }, (_, i) =>
            store.transaction(async (tx) => {
              await tx.nhis.insert({ ...nhi, id: `svc:batch-${i}` as NhiId });
              await tx.log.append(event('nhi.registered'));
              if (i % 3 === 0) throw new Error(`job ${i} fails`);
              return i;
            }),
          ),
        );
        const kept = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        expect(kept).toHaveLength(40);
        for (let i = 0; i < 60; i++) {
          expect(await store.read.nhis.get(`svc:batch-${i}` as NhiId), `nhi ${i}`).toEqual(
            i % 3 === 0 ? null : expect.objectContaining({ id: `svc:batch-${i}` }),
          );
        }
        expect(await store.read.log.queuedCount()).toBe(40);
      });
    });

    describe('when a request moves between states', () => {
      it('only moves from the state it is in', async () => {
        const id = ('sha256:' + 'a'.repeat(64)) as RequestId;
        const move = (from: RequestState, to: RequestState) =>
          store.transaction((tx) => tx.requests.transition(id, from, to, 'now'));
        expect(await move('approved', 'revoked')).toBe(false);
        expect(await move('pending', 'denied')).toBe(true);
        expect(await move('pending', 'approved')).toBe(false);
        expect((await store.read.requests.get(id))?.state).toBe('denied');
      });
    });

    describe('when many callers consume one warrant at once', () => {
      it('never spends more uses than maxUses', async () => {
        const rid = 'sha256:' + 'a'.repeat(64);
        await store.transaction((tx) => tx.warrants.insert(warrant('wrt_race', rid, 3)));
        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            store.transaction((tx) => tx.warrants.consumeUse('wrt_race' as WarrantId, 3)),
          ),
        );
        expect(results.filter((r) => r !== null).sort()).toEqual([1, 2, 3]);
        expect((await store.read.warrants.get('wrt_race' as WarrantId))?.uses).toBe(3);
      });

      it('is bounded by the signed maxUses even when the row allows more', async () => {
        const rid = 'sha256:' + 'a'.repeat(64);
        // The row says 5 (raised behind the server's back); the warrant was signed for 2.
        await store.transaction((tx) => tx.warrants.insert(warrant('wrt_raised', rid, 5)));
        const spend = () =>
          store.transaction((tx) => tx.warrants.consumeUse('wrt_raised' as WarrantId, 2));
        expect([await spend(), await spend(), await spend()]).toEqual([1, 2, null]);
      });

      it('spends nothing from a revoked warrant', async () => {
        const rid = 'sha256:' + 'a'.repeat(64);
        await store.transaction((tx) => tx.warrants.insert(warrant('wrt_rev', rid, 3)));
        const revoke = () =>
          store.transaction((tx) =>
            tx.warrants.revoke('wrt_rev' as WarrantId, 'admin', 'x', 'now'),
          );
        expect(await revoke()).toBe(true);
        expect(await revoke()).toBe(false);
        expect(
          await store.transaction((tx) => tx.warrants.consumeUse('wrt_rev' as WarrantId, 3)),
        ).toBeNull();
      });
    });

    describe('when an NHI id is registered twice', () => {
      it('refuses the second insert', async () => {
        await expect(store.transaction((tx) => tx.nhis.insert(nhi))).rejects.toThrow();
      });
    });

    describe('when a second NHI shares the comparison key of the first', () => {
      it('refuses the insert, and finds the first by the key of either', async () => {
        const twin = { ...nhi, id: 'svc:Store-Test' as NhiId };
        await expect(store.transaction((tx) => tx.nhis.insert(twin))).rejects.toThrow();
        expect((await store.read.nhis.getByKey(nhiKey(twin.id)))?.id).toBe(nhi.id);
        expect(await store.read.nhis.get(twin.id)).toBeNull();
      });
    });

    describe("when an NHI's owner changes", () => {
      it('moves it only from the owner named, so a concurrent change is not overwritten', async () => {
        const setOwner = (from: string, to: string) =>
          store.transaction((tx) => tx.nhis.setOwner(nhi.id, from, to));
        expect(await setOwner('elsewhere', 'x')).toBe(false);
        expect(await setOwner('team', 'team-data')).toBe(true);
        expect((await store.read.nhis.get(nhi.id))?.owner).toBe('team-data');
        expect(await setOwner('team', 'x')).toBe(false);
      });
    });
  });
}
