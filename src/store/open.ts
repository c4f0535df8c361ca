import { openSqliteStore } from './sqlite/open.js';
import type { Store } from './store.js';

/** True for the URLs the PostgreSQL store serves. */
export const isPostgresUrl = (url: string): boolean =>
  url.startsWith('postgres://') || url.startsWith('postgresql://');

/**
 * Opens the store a database URL names: `postgres://…` or `postgresql://…` for
 * PostgreSQL, `sqlite:PATH` (or a bare path) for SQLite. Either way the schema is
 * migrated to the latest version before this resolves.
 */
export async function openStore(url: string): Promise<Store> {
  if (isPostgresUrl(url)) {
    // Loaded lazily: a SQLite deployment never loads the pg driver.
    const { openPostgresStore } = await import('./postgres/open.js');
    return openPostgresStore({ url });
  }
  return openSqliteStore({ file: url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url });
}
