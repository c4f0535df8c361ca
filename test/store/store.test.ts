import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NhiId, PrincipalId, RequestId, WarrantId } from '../../src/core/ids.js';
import { encodeEvent } from '../../src/log/event.js';
import { nhiKey } from '../../src/nhi/key.js';
import type { Nhi } from '../../src/nhi/nhi.js';
import type { RequestBody, RequestRecord } from '../../src/request/request.js';
import type { Store } from '../../src/store/store.js';
import type { WarrantRecord } from '../../src/warrant/warrant.js';
import { DIALECTS, type StoreFixture } from '../helpers/dialects.js';

const nhi: Nhi = {
  id: 'svc:store-test' as NhiId,
  kind: 'service_account',
  owner: 'team',
  description: null,
  createdAt: '2026-01-01T00:00:00.000Z',
  createdBy: 'admin',
};

function request(id: string): RequestRecord {
  return {
    id: id as RequestId,
    body: {
      requester: 'alice' as PrincipalId,
      subject: nhi.id,
      environment: 'prod',
      createdAt: '2026-01-01T00:00:00.000Z',
      pendingExpiresAt: '2026-01-02T00:00:00.000Z',
    } as unknown as RequestBody,
    state: 'pending',
    warrantId: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

function warrant(id: string, requestId: string, maxUses: number): WarrantRecord {
  return {
    id: id as WarrantId,
    requestId: requestId as RequestId,
    kid: 'k1',
    token: 'header.payload.sig',
    claims: {} as WarrantRecord['claims'],
    notBefore: '2026-01-01T00:00:00.000Z',
    notAfter: '2026-01-01T08:00:00.000Z',
    uses: 0,
    maxUses,
    state: 'active',
    issuedAt: '2026-01-01T00:00:00.000Z',
    revokedAt: null,
    revokedBy: null,
    revokeReason: null,
  };
}

const event = (type: 'nhi.registered' | 'request.created') =>
  encodeEvent({ v: 1, type, at: '2026-01-01T00:00:00.000Z', actor: 'test', links: {}, data: {} });

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`the ${dialect.name} store`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fx = await dialect.open();
      store = fx.store;
      await store.transaction(async (tx) => {
        await tx.insertNhi(nhi);
        await tx.insertRequest(request('sha256:' + 'a'.repeat(64)));
      });
    });
    afterEach(async () => {
      await fx.dispose();
    });
    afterAll(() => dialect.close());

    describe('when a transaction fails after writing', () => {
      it('keeps neither the state change nor its event', async () => {
        const eventsBefore = await store.transaction(async (tx) =>
          tx.appendEvent(event('nhi.registered')),
        );
        await expect(
          store.transaction(async (tx) => {
            await tx.insertNhi({ ...nhi, id: 'svc:rolled-back' as NhiId });
            await tx.appendEvent(event('nhi.registered'));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.getNhi('svc:rolled-back' as NhiId)).toBeNull();
        // Only the first event is queued. (Ids need not be dense: a PostgreSQL sequence
        // value taken by a rolled-back insert is not given back.)
        expect(await store.countPendingEvents()).toBe(1);
        const next = await store.transaction(async (tx) =>
          tx.appendEvent(event('request.created')),
        );
        expect(next).toBeGreaterThan(eventsBefore);
        expect(await store.countPendingEvents()).toBe(2);
      });
    });

    describe('when many transactions run at once and some of them fail', () => {
      it('keeps exactly the writes of those that succeeded, each with its event', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 60 }, (_, i) =>
            store.transaction(async (tx) => {
              await tx.insertNhi({ ...nhi, id: `svc:batch-${i}` as NhiId });
              await tx.appendEvent(event('nhi.registered'));
              if (i % 3 === 0) throw new Error(`job ${i} fails`);
              return i;
            }),
          ),
        );
        const kept = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        expect(kept).toHaveLength(40);
        for (let i = 0; i < 60; i++) {
          expect(await store.getNhi(`svc:batch-${i}` as NhiId), `nhi ${i}`).toEqual(
            i % 3 === 0 ? null : expect.objectContaining({ id: `svc:batch-${i}` }),
          );
        }
        expect(await store.countPendingEvents()).toBe(40);
      });
    });

    describe('when a request moves between states', () => {
      it('only moves from the state it is in', async () => {
        const id = ('sha256:' + 'a'.repeat(64)) as RequestId;
        expect(await store.transitionRequest(id, 'approved', 'revoked', 'now')).toBe(false);
        expect(await store.transitionRequest(id, 'pending', 'denied', 'now')).toBe(true);
        expect(await store.transitionRequest(id, 'pending', 'approved', 'now')).toBe(false);
        expect((await store.getRequest(id))?.state).toBe('denied');
      });
    });

    describe('when many callers consume one warrant at once', () => {
      it('never spends more uses than maxUses', async () => {
        const rid = 'sha256:' + 'a'.repeat(64);
        await store.transaction((tx) => tx.insertWarrant(warrant('wrt_race', rid, 3)));
        const results = await Promise.all(
          Array.from({ length: 50 }, () =>
            store.transaction((tx) => tx.consumeWarrantUse('wrt_race' as WarrantId, 3)),
          ),
        );
        expect(results.filter((r) => r !== null).sort()).toEqual([1, 2, 3]);
        expect((await store.getWarrant('wrt_race' as WarrantId))?.uses).toBe(3);
      });

      it('is bounded by the signed maxUses even when the row allows more', async () => {
        const rid = 'sha256:' + 'a'.repeat(64);
        // The row says 5 (raised behind the server's back); the warrant was signed for 2.
        await store.transaction((tx) => tx.insertWarrant(warrant('wrt_raised', rid, 5)));
        const spend = () =>
          store.transaction((tx) => tx.consumeWarrantUse('wrt_raised' as WarrantId, 2));
        expect([await spend(), await spend(), await spend()]).toEqual([1, 2, null]);
      });

      it('spends nothing from a revoked warrant', async () => {
        const rid = 'sha256:' + 'a'.repeat(64);
        await store.transaction((tx) => tx.insertWarrant(warrant('wrt_rev', rid, 3)));
        expect(await store.revokeWarrant('wrt_rev' as WarrantId, 'admin', 'x', 'now')).toBe(true);
        expect(await store.revokeWarrant('wrt_rev' as WarrantId, 'admin', 'x', 'now')).toBe(false);
        expect(await store.consumeWarrantUse('wrt_rev' as WarrantId, 3)).toBeNull();
      });
    });

    describe('when an NHI id is registered twice', () => {
      it('refuses the second insert', async () => {
        await expect(store.transaction((tx) => tx.insertNhi(nhi))).rejects.toThrow();
      });
    });

    describe('when a second NHI shares the comparison key of the first', () => {
      it('refuses the insert, and finds the first by the key of either', async () => {
        const twin = { ...nhi, id: 'svc:Store-Test' as NhiId };
        await expect(store.transaction((tx) => tx.insertNhi(twin))).rejects.toThrow();
        expect((await store.getNhiByKey(nhiKey(twin.id)))?.id).toBe(nhi.id);
        expect(await store.getNhi(twin.id)).toBeNull();
      });
    });

    describe("when an NHI's owner changes", () => {
      it('moves it only from the owner named, so a concurrent change is not overwritten', async () => {
        expect(await store.setNhiOwner(nhi.id, 'elsewhere', 'x')).toBe(false);
        expect(await store.setNhiOwner(nhi.id, 'team', 'team-data')).toBe(true);
        expect((await store.getNhi(nhi.id))?.owner).toBe('team-data');
        expect(await store.setNhiOwner(nhi.id, 'team', 'x')).toBe(false);
      });
    });
  });
}
