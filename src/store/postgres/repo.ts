import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { RequestId } from '../../core/ids.js';
import { leafRequest } from '../kysely-log-repo.js';
import { KyselyRepo } from '../kysely-repo.js';
import type { Database } from '../schema.js';

/**
 * Advisory lock keys, in PostgreSQL's two-int4 key space (which never overlaps the
 * one-bigint space that Kysely's migration lock uses). The first half names countersign.
 */
const NAMESPACE = 0x63736967; // 'csig'
export const LOCK_KEYS = { log: 1, keyRing: 2 } as const;

/**
 * The repo inside a PostgreSQL transaction. Transactions run at READ COMMITTED, so a
 * use case that reads and then writes on the strength of what it read takes a lock
 * first: a transaction-scoped advisory lock for the log and the key ring, a row lock
 * for a request. All of them are released by COMMIT or ROLLBACK, including the
 * rollback the server performs when a node's session dies.
 */
export class PostgresRepo extends KyselyRepo {
  constructor(db: Kysely<Database>) {
    super(db);
  }

  override async lockLog(): Promise<void> {
    await sql`select pg_advisory_xact_lock(${sql.lit(NAMESPACE)}, ${sql.lit(LOCK_KEYS.log)})`.execute(
      this.db,
    );
  }

  override async lockKeyRing(): Promise<void> {
    await sql`select pg_advisory_xact_lock(${sql.lit(NAMESPACE)}, ${sql.lit(LOCK_KEYS.keyRing)})`.execute(
      this.db,
    );
  }

  protected override leafRequest(): RawBuilder<string | null> {
    return leafRequest('postgres');
  }

  override async lockRequest(id: RequestId): Promise<void> {
    await this.db.selectFrom('requests').select('id').where('id', '=', id).forUpdate().execute();
  }
}
