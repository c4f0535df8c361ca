import { describe, expect, it } from 'vitest';
import { legacyDialects, withLegacy } from './legacy.js';
import type { NhiId } from '../../src/core/ids.js';
import { nhiKey } from '../../src/nhi/key.js';

/** An NHI row as stored before 007, registered `minute` minutes into the day. */
const legacyRow = (id: string, owner: string, minute: number) => ({
  id,
  kind: 'service_account',
  owner,
  description: null,
  created_at: `2026-03-01T12:${String(minute).padStart(2, '0')}:00.000Z`,
  created_by: 'admin',
});

for (const { dialect, unavailable } of legacyDialects()) {
  describe.skipIf(unavailable !== null)(`migration 007 on ${dialect}`, () => {
    describe('when NHIs registered before it differ only by case or a look-alike', () => {
      it('keys the first plainly, suffixes the later ones, and keeps every row reachable by its id', async () => {
        await withLegacy(dialect, '005_single_use', async (l) => {
          // Inserted out of registration order: the migration goes by created_at.
          await l.db
            .insertInto('nhis')
            .values([
              legacyRow('svc:BobOwned', 'mallory', 2),
              legacyRow('svc:bobowned', 'bob', 1),
              legacyRow('svc:b0bowned', 'eve', 3),
              legacyRow('svc:other', 'team', 4),
              // The schema type is the one after 007; these rows are from before it.
            ] as never)
            .execute();

          const store = await l.openStore();
          try {
            const plain = nhiKey('svc:bobowned');
            const keys = await l.db
              .selectFrom('nhis')
              .select(['id', 'key'])
              .orderBy('id')
              .execute();
            expect(keys).toEqual([
              { id: 'svc:BobOwned', key: `${plain}#svc:BobOwned` },
              { id: 'svc:b0bowned', key: `${plain}#svc:b0bowned` },
              { id: 'svc:bobowned', key: plain },
              { id: 'svc:other', key: nhiKey('svc:other') },
            ]);
            expect((await store.read.nhis.getByKey(nhiKey('svc:BOBOWNED')))?.id).toBe(
              'svc:bobowned',
            );
            for (const id of ['svc:BobOwned', 'svc:b0bowned', 'svc:bobowned', 'svc:other']) {
              expect((await store.read.nhis.get(id as NhiId))?.id).toBe(id);
            }
            const twin = {
              id: 'svc:BOBOWNED' as NhiId,
              kind: 'service_account' as const,
              owner: 'x',
              description: null,
              createdAt: '2026-03-02T00:00:00.000Z',
              createdBy: 'admin',
            };
            await expect(store.transaction((tx) => tx.nhis.insert(twin))).rejects.toThrow();
          } finally {
            await store.close();
          }
        });
      });
    });

    describe('when no NHI is registered yet', () => {
      it('adds the key column, which a new registration fills', async () => {
        await withLegacy(dialect, '005_single_use', async (l) => {
          await l.db.destroy();
          const store = await l.openStore();
          try {
            const nhi = legacyRow('svc:first', 'team', 0);
            await store.transaction((tx) =>
              tx.nhis.insert({
                id: nhi.id as NhiId,
                kind: 'service_account',
                owner: nhi.owner,
                description: null,
                createdAt: nhi.created_at,
                createdBy: nhi.created_by,
              }),
            );
            expect((await store.read.nhis.getByKey(nhiKey('SVC:FIRST')))?.id).toBe('svc:first');
          } finally {
            await store.close();
          }
        });
      });
    });
  });
}
