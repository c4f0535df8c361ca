import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isPostgresUrl } from '../../src/store/open.js';
import { pgQuery } from './postgres.js';

/** The tables of the approval chain and its log, which {@link rowCounts} counts. */
export const CHAIN_TABLES = [
  'nhis',
  'requests',
  'decisions',
  'warrants',
  'redemptions',
  'events',
  'signing_keys',
] as const;

/** How many rows `table` holds. */
export const rowCount = (db: Database.Database, table: string): number =>
  (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;

function readSqlite<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Row counts of every table, read straight from the server's SQLite file. */
export function rowCounts(dataDir: string): Record<string, number> {
  return readSqlite(join(dataDir, 'countersign.db'), (db) =>
    Object.fromEntries(CHAIN_TABLES.map((t) => [t, rowCount(db, t)])),
  );
}

/** Runs a read-only query against the server's SQLite file. */
export function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  return readSqlite(join(dataDir, 'countersign.db'), (db) => db.prepare(sql).all(...params) as T[]);
}

/**
 * How many events (integrated or still queued) a database holds, on either store: what
 * a settled log must cover. `databaseUrl` is a server's `sqlite:` or `postgres://` URL.
 */
export async function eventCount(databaseUrl: string): Promise<number> {
  const sql = 'select count(*) as n from events';
  if (isPostgresUrl(databaseUrl)) {
    // count(*) is a bigint, which the pg driver hands back as a string.
    return Number((await pgQuery<{ n: string }>(databaseUrl, sql))[0]!.n);
  }
  const file = databaseUrl.replace(/^sqlite:/, '');
  return readSqlite(file, (db) => (db.prepare(sql).get() as { n: number }).n);
}

/**
 * Runs one statement that changes a database behind the server's back, as someone with
 * write access to it (a restored copy, an operator's shell, an attacker) would.
 */
export async function editBehindServer(databaseUrl: string, sql: string): Promise<void> {
  if (isPostgresUrl(databaseUrl)) {
    await pgQuery(databaseUrl, sql);
    return;
  }
  const db = new Database(databaseUrl.replace(/^sqlite:/, ''), { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    db.exec(sql);
  } finally {
    db.close();
  }
}
