import { sql } from 'kysely';
import type { DialectSql } from '../kysely/dialect.js';

/**
 * Advisory lock keys, in PostgreSQL's two-int4 key space (which never overlaps the
 * one-bigint space that Kysely's migration lock uses). The first half names countersign.
 */
const NAMESPACE = 0x63736967; // 'csig'
export const LOCK_KEYS = { log: 1, keyRing: 2 } as const;

/**
 * Transactions run at READ COMMITTED, so a use case that reads and then writes on the
 * strength of what it read takes a lock first: a transaction-scoped advisory lock for the
 * log and the key ring, a row lock for a request. All of them are released by COMMIT or
 * ROLLBACK, including the rollback the server performs when a node's session dies.
 */
export const postgresSql: DialectSql = {
  name: 'postgres',
  async lockLog(db) {
    await sql`select pg_advisory_xact_lock(${sql.lit(NAMESPACE)}, ${sql.lit(LOCK_KEYS.log)})`.execute(
      db,
    );
  },
  async tryLockLog(db) {
    const { rows } = await sql<{
      held: boolean;
    }>`select pg_try_advisory_xact_lock(${sql.lit(NAMESPACE)}, ${sql.lit(LOCK_KEYS.log)}) as held`.execute(
      db,
    );
    return rows[0]?.held === true;
  },
  async lockKeyRing(db) {
    await sql`select pg_advisory_xact_lock(${sql.lit(NAMESPACE)}, ${sql.lit(LOCK_KEYS.keyRing)})`.execute(
      db,
    );
  },
  async lockRequest(db, id) {
    await db.selectFrom('requests').select('id').where('id', '=', id).forUpdate().execute();
  },
  rowLocks: true,
  leafRequest: () => sql<string | null>`((leaf::jsonb -> 'links') ->> 'request')`,
  leafDataId: () => sql<string | null>`((leaf::jsonb -> 'data') ->> 'id')`,
};
