import { CountersignError } from '../core/errors.js';
import type { ConfigErrorCode } from '../server/config.js';
import { openSqliteStore } from './sqlite/open.js';
import type { Store } from './store.js';

/** Opens the store a database URL names: `sqlite:PATH` (or a bare path). */
export async function openStore(url: string): Promise<Store> {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    throw new CountersignError<ConfigErrorCode>(
      'CONFIG_INVALID',
      'the PostgreSQL store is not available yet',
    );
  }
  return openSqliteStore({ file: url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url });
}
