import { join } from 'node:path';
import Database from 'better-sqlite3';

const TABLES = [
  'nhis',
  'requests',
  'decisions',
  'warrants',
  'redemptions',
  'events',
  'signing_keys',
];

/** Row counts of every table, read straight from the server's SQLite file. */
export function rowCounts(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'countersign.db'), { readonly: true, fileMustExist: true });
  try {
    return Object.fromEntries(
      TABLES.map((t) => [
        t,
        (db.prepare(`select count(*) as n from ${t}`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

/** Runs a read-only query against the server's SQLite file. */
export function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(dataDir, 'countersign.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
