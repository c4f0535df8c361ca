import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations.js';
import { type Dialect } from '../../src/service/ports/store.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { Database as Schema } from '../../src/store/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/service/ports/store.js';
import { POSTGRES_UNAVAILABLE, sharedPostgres, stopSharedPostgres } from '../helpers/postgres.js';

/** A database migrated only up to 004, opened raw, and how to open the store on it. */
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

const success = (id: string) => ({
  id,
  request_id: 'req_1',
  warrant_id: 'wrt_1',
  receipt_id: 'rcpt_1',
  executor: 'deploy-eu',
  subject: 'svc:a',
  target: 'eu',
  phase: 'apply',
  outcome: 'success',
  fingerprint: null,
  detail: null,
  at: '2026-03-01T12:00:00.000Z',
  event_id: 1,
});

afterAll(stopSharedPostgres);

for (const [dialect, legacy] of Object.entries(LEGACY) as [Dialect, (typeof LEGACY)[Dialect]][]) {
  describe.skipIf(legacy.unavailable !== null)(`migration 005 on ${dialect}`, () => {
    describe('when nodes racing before it stored two successes for one key', () => {
      it('refuses to migrate, naming the key, until one of them is gone', async () => {
        const l = await legacy.create();
        try {
          const migrator = new Migrator({ db: l.db, provider: migrations(dialect) });
          expect((await migrator.migrateTo('004_identity')).error).toBeUndefined();
          await l.db
            .insertInto('fulfilments')
            .values([success('ful_1'), success('ful_2')])
            .execute();

          await expect(l.openStore()).rejects.toThrow(
            'migration 005: 1 receipt/target/phase keys hold more than one successful fulfilment (rcpt_1|eu|apply)',
          );

          await l.db.deleteFrom('fulfilments').where('id', '=', 'ful_2').execute();
          await l.db.destroy();
          const store = await l.openStore();
          expect(await store.read.fulfilments.list()).toHaveLength(1);
          await store.close();
        } finally {
          await l.dispose();
        }
      });
    });
  });
}
