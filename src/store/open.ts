import { openSqliteStore } from './sqlite/open.js';
import type { Store } from '../service/ports/store.js';

/** True for the URLs the PostgreSQL store serves. */
export const isPostgresUrl = (url: string): boolean =>
  url.startsWith('postgres://') || url.startsWith('postgresql://');

/**
 * Opens the store a database URL names: `postgres://…` or `postgresql://…` for
 * PostgreSQL, `sqlite:PATH` (or a bare path) for SQLite. Either way the schema is
 * migrated to the latest version before this resolves.
 */
export async function openStore(url: string, opts: { poolMax?: number } = {}): Promise<Store> {
  if (isPostgresUrl(url)) {
    // Loaded lazily: a SQLite deployment never loads the pg driver.
    const { openPostgresStore } = await import('./postgres/open.js');
    return openPostgresStore({ url, ...opts });
  }
  return openSqliteStore({ file: sqliteFile(url) });
}

/** The SQLite file a `sqlite:` URL (or a bare path) names. */
export const sqliteFile = (url: string): string =>
  url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;

/**
 * Opens a database only to read it: no migration, nothing written (audits, and the
 * reconciliation planner's own connection). A read-only role is enough on PostgreSQL.
 */
export async function openReadOnlyStore(url: string): Promise<Store> {
  if (isPostgresUrl(url)) {
    const { openPostgresStore } = await import('./postgres/open.js');
    return openPostgresStore({ url, migrate: false, poolMax: 2 });
  }
  return openSqliteStore({ file: sqliteFile(url), readonly: true });
}
