import { CountersignError } from '../core/errors.js';
import { openSqliteStore } from './sqlite/open.js';
import type { Store } from '../service/ports/store.js';

/** A database URL no store serves is refused like the rest of the configuration, at start. */
export type DatabaseUrlErrorCode = 'CONFIG_INVALID';

/** The store a database URL names. */
export type DatabaseKind = 'postgres' | 'sqlite';

/** A URL's `scheme://`, if it has one (RFC 3986 §3.1: letters, digits, `+`, `-`, `.`). */
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const SQLITE_PREFIX = /^sqlite:/i;

/**
 * Which store a database URL names: `postgres://` or `postgresql://` for PostgreSQL,
 * `sqlite:PATH` or a path with no `scheme://` for SQLite. Schemes are case-insensitive
 * (RFC 3986 §3.1), so `POSTGRES://` is PostgreSQL too. Any other scheme is refused: taken
 * as a path, a `mysql://` URL or a misspelt `postgress://` would start a second authority
 * on an empty SQLite file, with a new signing key, in folders named after the URL. The
 * message names the scheme alone: the rest of the URL may hold a password.
 */
export function databaseKind(url: string): DatabaseKind {
  // An empty setting (COUNTERSIGN_DATABASE_URL= in a unit file) names no database at all.
  if (url.trim() === '' || url.trim() === 'sqlite:') {
    throw new CountersignError<DatabaseUrlErrorCode>(
      'CONFIG_INVALID',
      'database URL: empty (unset it to use the data dir, or name a database)',
    );
  }
  const scheme = SCHEME.exec(url)?.[1];
  switch (scheme?.toLowerCase()) {
    case 'postgres':
    case 'postgresql':
      return 'postgres';
    case undefined:
    case 'sqlite':
      return 'sqlite';
    default:
      throw new CountersignError<DatabaseUrlErrorCode>(
        'CONFIG_INVALID',
        `database URL: no store serves the scheme "${scheme}://" ` +
          '(use postgres://, postgresql://, sqlite:PATH or a file path)',
      );
  }
}

/** True for the URLs the PostgreSQL store serves; refuses (`CONFIG_INVALID`) a URL no store serves. */
export const isPostgresUrl = (url: string): boolean => databaseKind(url) === 'postgres';

/**
 * Opens the store a database URL names (see {@link databaseKind}). Either way the schema
 * is migrated to the latest version before this resolves.
 */
export async function openStore(url: string, opts: { poolMax?: number } = {}): Promise<Store> {
  if (isPostgresUrl(url)) {
    // Loaded lazily: a SQLite deployment never loads the pg driver.
    const { openPostgresStore } = await import('./postgres/open.js');
    return openPostgresStore({ url, ...opts });
  }
  return openSqliteStore({ file: sqliteFile(url) });
}

/**
 * The SQLite file a `sqlite:` URL (or a bare path) names; refuses (`CONFIG_INVALID`) a URL
 * no store serves rather than make a path of it.
 */
export function sqliteFile(url: string): string {
  databaseKind(url);
  return SQLITE_PREFIX.test(url) ? url.slice('sqlite:'.length) : url;
}

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
