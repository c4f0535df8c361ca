import { sql } from 'kysely';
import type { DialectSql } from '../kysely/dialect.js';

/**
 * SQLite takes no locks of its own: every transaction begins IMMEDIATE, which already
 * serialises writers, across processes sharing the file too.
 */
export const sqliteSql: DialectSql = {
  name: 'sqlite',
  lockLog: async () => undefined,
  tryLockLog: async () => true,
  lockKeyRing: async () => undefined,
  lockRequest: async () => undefined,
  rowLocks: false,
  leafRequest: () => sql<string | null>`json_extract(leaf, '$.links.request')`,
  leafDataId: () => sql<string | null>`json_extract(leaf, '$.data.id')`,
};
