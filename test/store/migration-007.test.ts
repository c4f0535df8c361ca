import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { NhiId } from '../../src/core/ids.js';
import { nhiKey } from '../../src/nhi/key.js';
import { migrations } from '../../src/store/migrations.js';
import { type Dialect } from '../../src/service/ports/store.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { Database as Schema } from '../../src/store/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/service/ports/store.js';
import { POSTGRES_UNAVAILABLE, sharedPostgres, stopSharedPostgres } from '../helpers/postgres.js';

/** A database migrated only up to 005, opened raw, and how to open the store on it. */
interface LegacyDatabase {
  readonly db: Kysely<Schema>;
  openStore(): Promise<Store>;
  dispose(): Promise<void>;
}

const LEGACY: Record<Dialect, { unavailable: string | null; create(): Promise<LegacyDatabase> }> = {
  sqlite: {
    unavailable: null,
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-legacy-'));
      const file = join(dir, 'test.db');
      return {
        db: new Kysely<Schema>({ dialect: new SqliteDialect({ database: new Database(file) }) }),
        openStore: () => openSqliteStore({ file }),
        dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
      };
    },
  },
  postgres: {
    unavailable: POSTGRES_UNAVAILABLE,
    async create() {
      const cluster = await sharedPostgres();
      const url = await cluster.createDatabase('legacy');
      const pool = new pg.Pool({ connectionString: url });
      return {
        db: new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }),
        openStore: () => openPostgresStore({ url }),
        dispose: () => cluster.dropDatabase(url),
      };
    },
  },
};

/** An NHI row as stored before 007, registered `minute` minutes into the day. */
const legacyRow = (id: string, owner: string, minute: number) => ({
  id,
  kind: 'service_account',
  owner,
  description: null,
  created_at: `2026-03-01T12:${String(minute).padStart(2, '0')}:00.000Z`,
  created_by: 'admin',
});

afterAll(stopSharedPostgres);

for (const [dialect, legacy] of Object.entries(LEGACY) as [Dialect, (typeof LEGACY)[Dialect]][]) {
  describe.skipIf(legacy.unavailable !== null)(`migration 007 on ${dialect}`, () => {
    describe('when NHIs registered before it differ only by case or a look-alike', () => {
      it('keys the first plainly, suffixes the later ones, and keeps every row reachable by its id', async () => {
        const l = await legacy.create();
        try {
          const migrator = new Migrator({ db: l.db, provider: migrations(dialect) });
          expect((await migrator.migrateTo('005_single_use')).error).toBeUndefined();
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
        } finally {
          await l.db.destroy();
          await l.dispose();
        }
      });
    });

    describe('when no NHI is registered yet', () => {
      it('adds the key column, which a new registration fills', async () => {
        const l = await legacy.create();
        try {
          const migrator = new Migrator({ db: l.db, provider: migrations(dialect) });
          expect((await migrator.migrateTo('005_single_use')).error).toBeUndefined();
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
        } finally {
          await l.dispose();
        }
      });
    });
  });
}
