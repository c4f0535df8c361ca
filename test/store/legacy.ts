/**
 * Databases left by an older version: migrated only up to a named migration and opened
 * raw, so a test can write rows as that version did before the store opens them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import { afterAll, expect } from 'vitest';
import type { Dialect, Store } from '../../src/service/ports/store.js';
import { migrations } from '../../src/store/migrations.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { Database as Schema } from '../../src/store/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { POSTGRES_UNAVAILABLE, sharedPostgres, stopSharedPostgres } from '../helpers/postgres.js';

export interface LegacyDatabase {
  /** The raw handle; the schema type is the current one, the rows are older. */
  readonly db: Kysely<Schema>;
  openStore(): Promise<Store>;
}

interface Raw extends LegacyDatabase {
  dispose(): Promise<void>;
}

const CREATE: Record<Dialect, { unavailable: string | null; create(): Promise<Raw> }> = {
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

/** Every dialect, with the reason it cannot run here (null when it can). */
export function legacyDialects(): { dialect: Dialect; unavailable: string | null }[] {
  afterAll(stopSharedPostgres);
  return (Object.keys(CREATE) as Dialect[]).map((dialect) => ({
    dialect,
    unavailable: CREATE[dialect].unavailable,
  }));
}

/** Runs `use` on a fresh database migrated up to `last`, then drops it. */
export async function withLegacy(
  dialect: Dialect,
  last: string,
  use: (l: LegacyDatabase) => Promise<void>,
): Promise<void> {
  const l = await CREATE[dialect].create();
  try {
    const migrator = new Migrator({ db: l.db, provider: migrations(dialect) });
    expect((await migrator.migrateTo(last)).error).toBeUndefined();
    await use(l);
  } finally {
    await l.db.destroy();
    await l.dispose();
  }
}

/** The indexes on `table` by name, each as the database defines it (SQLite's automatic ones left out). */
export async function indexesOn(
  l: LegacyDatabase,
  dialect: Dialect,
  table: string,
): Promise<Map<string, string>> {
  const { rows } =
    dialect === 'postgres'
      ? await sql<{ name: string; def: string }>`select indexname as name, indexdef as def
          from pg_indexes where tablename = ${table}`.execute(l.db)
      : await sql<{ name: string; def: string }>`select name, sql as def from sqlite_master
          where type = 'index' and tbl_name = ${table} and sql is not null`.execute(l.db);
  return new Map(rows.map((r) => [r.name, r.def]));
}
