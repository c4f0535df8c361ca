import { beforeEach, describe, expect, it } from 'vitest';
import type { RequestId, WarrantId } from '../../src/core/ids.js';
import { encodeEvent, openEvent, type LogEvent } from '../../src/log/event.js';
import type { UseSpend } from '../../src/service/ports/spend.js';
import type { Store } from '../../src/service/ports/store.js';
import { DIALECTS, storePerTest } from '../helpers/dialects.js';
import { ACTION, allowedEvent, AT, RID, seedSpends, spendOf } from '../helpers/spends.js';
import { warrant } from '../helpers/store-rows.js';

for (const dialect of DIALECTS) {
  describe.skipIf(dialect.unavailable !== null)(`spendUse on the ${dialect.name} store`, () => {
    const current = storePerTest(dialect, seedSpends);
    let store: Store;
    beforeEach(() => {
      store = current();
    });

    const issue = (wid: string, maxUses: number) =>
      store.transaction((tx) => tx.warrants.insert(warrant(wid, RID, maxUses)));

    it('writes the use, its redemption row and an event whose leaf and hash are encodeEvent’s', async () => {
      await issue('wrt_one', 3);
      const spent = await store.spendUse(spendOf('wrt_one', 3));
      expect(spent?.use).toBe(1);
      const expected = encodeEvent(allowedEvent('wrt_one', RID)(1));
      expect(await store.read.log.eventLeaf(spent?.eventId ?? -1)).toBe(expected.leaf);
      expect(await store.transaction((tx) => tx.log.pending(10))).toEqual([
        { id: spent?.eventId, leafHash: expected.leafHash },
      ]);
      const rows = await store.read.warrants.redemptions('wrt_one' as WarrantId);
      expect(rows).toEqual([
        expect.objectContaining({ outcome: 'allow', useNumber: 1, eventId: spent?.eventId }),
      ]);
      expect(rows[0]?.action).toEqual(ACTION);
      expect((await store.read.requests.get(RID))?.state).toBe('approved');
    });

    it('spends each use once when forty callers race for three', async () => {
      await issue('wrt_race', 3);
      const results = await Promise.all(
        Array.from({ length: 40 }, () => store.spendUse(spendOf('wrt_race', 3))),
      );
      const uses = results.flatMap((r) => (r ? [r.use] : []));
      expect(uses.sort()).toEqual([1, 2, 3]);
      const rows = await store.read.warrants.redemptions('wrt_race' as WarrantId);
      expect(rows.map((r) => r.useNumber).sort()).toEqual([1, 2, 3]);
      expect((await store.read.warrants.get('wrt_race' as WarrantId))?.uses).toBe(3);
      // three allowed events and one exhausted, nothing for the 37 refused
      expect(await store.read.log.queuedCount()).toBe(4);
    });

    it('on the last use moves the request to exhausted and logs it after the allowed event', async () => {
      await issue('wrt_last', 1);
      const spent = await store.spendUse(spendOf('wrt_last', 1));
      expect(spent?.use).toBe(1);
      expect((await store.read.requests.get(RID))?.state).toBe('exhausted');
      const queued = await store.transaction((tx) => tx.log.pending(10));
      expect(queued.map((e) => e.id)).toEqual([spent?.eventId, expect.any(Number)]);
      const last = await store.read.log.eventLeaf(queued[1]?.id ?? -1);
      expect(JSON.parse(last ?? '{}')).toMatchObject({ type: 'warrant.exhausted' });
      expect(queued[1]?.leafHash).toBe(spendOf('wrt_last', 1).exhausted().leafHash);
    });

    describe('writes nothing and answers null', () => {
      const refused = async (wid: string, spend: UseSpend, before?: () => Promise<unknown>) => {
        await issue(wid, 3);
        await before?.();
        expect(await store.spendUse(spend)).toBeNull();
        expect(await store.read.log.queuedCount()).toBe(0);
        expect(await store.read.warrants.redemptions(wid as WarrantId)).toEqual([]);
        return store.read.warrants.get(wid as WarrantId);
      };

      it('for a warrant whose signing key another node revoked', async () => {
        const key = (state: 'active' | 'revoked') => ({
          kid: 'k1',
          publicJwk: '{}',
          sealedPrivate: 'sealed',
          state,
          createdAt: AT,
          revokedAt: state === 'revoked' ? AT : null,
        });
        await store.transaction((tx) => tx.keys.insert(key('active')));
        const row = await refused('wrt_key', spendOf('wrt_key', 3), () =>
          store.transaction((tx) => tx.keys.setState('k1', 'revoked', AT)),
        );
        expect(row?.uses).toBe(0);
        expect(await store.read.keys.isRevoked('k1')).toBe(true);
        expect(await store.transaction((tx) => tx.warrants.consumeUse(row!.id, 3))).toBeNull();
      });

      it('for a revoked warrant', async () => {
        const row = await refused('wrt_rev', spendOf('wrt_rev', 3), () =>
          store.transaction((tx) => tx.warrants.revoke('wrt_rev' as WarrantId, 'a', 'r', AT)),
        );
        expect(row?.uses).toBe(0);
      });

      it('for a warrant issued for another request', async () => {
        const other = ('sha256:' + 'd'.repeat(64)) as RequestId;
        expect((await refused('wrt_x', spendOf('wrt_x', 3, { requestId: other })))?.uses).toBe(0);
      });

      it('before and after the exact window the row keeps', async () => {
        const early = spendOf('wrt_w', 3, { at: '2025-12-31T23:59:59.999Z' });
        expect((await refused('wrt_w', early))?.uses).toBe(0);
        expect(await store.spendUse(spendOf('wrt_w', 3, { at: '2026-01-01T08:00:00.000Z' }))).toBe(
          null,
        );
        expect(
          await store.spendUse(spendOf('wrt_w', 3, { at: '2026-01-01T07:59:59.999Z' })),
        ).toEqual(expect.objectContaining({ use: 1 }));
      });

      it('past the signed max_uses, whatever the row allows', async () => {
        await issue('wrt_signed', 5);
        expect((await store.spendUse(spendOf('wrt_signed', 1)))?.use).toBe(1);
        expect(await store.spendUse(spendOf('wrt_signed', 1))).toBeNull();
        expect((await store.read.warrants.get('wrt_signed' as WarrantId))?.uses).toBe(1);
      });

      it('for a warrant that was never issued', async () => {
        expect(await store.spendUse(spendOf('wrt_none', 3))).toBeNull();
        expect(await store.read.log.queuedCount()).toBe(0);
      });
    });
  });
}

describe('an open event', () => {
  it('is refused when its marker occurs more than once', () => {
    const twice = (n: number | string): LogEvent => ({
      v: 1,
      type: 'redemption.allowed',
      at: AT,
      actor: 'x',
      links: {},
      data: { a: n, b: 'use-of-x' },
    });
    expect(openEvent(twice, 'use-of-x')).toBeNull();
  });
});
