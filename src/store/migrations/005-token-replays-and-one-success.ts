import { sql, type Kysely, type Migration } from 'kysely';
import { columnTypes } from './types.js';
import { type Dialect } from '../../service/ports/store.js';

/**
 * Single-use guarantees that hold across nodes sharing one database:
 *
 * - `token_replays` remembers every federated token spent at redemption, keyed by
 *   issuer and token id, until `expires_at` (epoch seconds): one conditional insert per
 *   redemption decides which node spent it first.
 * - At most one successful fulfilment per receipt, target and phase. The service checks
 *   before it inserts; the partial unique index makes the database refuse the insert of
 *   a node that checked concurrently (PostgreSQL at READ COMMITTED lets both pass).
 */
export function tokenReplaysAndOneSuccess(dialect: Dialect): Migration {
  const { bigint } = columnTypes(dialect);
  return {
    async up(db: Kysely<unknown>) {
      // First, before any change: SQLite runs DDL outside the migration's transaction.
      await refuseDuplicateSuccesses(db);
      await db.schema
        .createTable('token_replays')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('token_replays_pk', ['issuer', 'jti'])
        .execute();
      await db.schema
        .createIndex('token_replays_expiry')
        .on('token_replays')
        .column('expires_at')
        .execute();
      await db.schema
        .createIndex('fulfilments_one_success')
        .on('fulfilments')
        .columns(['receipt_id', 'target', 'phase'])
        .unique()
        .where(sql.ref('outcome'), '=', 'success')
        .execute();
    },
  };
}

/**
 * Only PostgreSQL nodes racing before this version can have stored two successes for one
 * key. They are evidence, bound to log events, so they are not deleted here: the
 * operator decides, and the message says what blocks the upgrade.
 */
async function refuseDuplicateSuccesses(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ receipt_id: string; target: string; phase: string }>`
    select receipt_id, target, phase from fulfilments where outcome = 'success'
     group by receipt_id, target, phase having count(*) > 1`.execute(db);
  if (rows.length === 0) return;
  const keys = rows.map((r) => `${r.receipt_id}|${r.target}|${r.phase}`).join(', ');
  throw new Error(
    `migration 005: ${rows.length} receipt/target/phase keys hold more than one successful ` +
      `fulfilment (${keys}); keep one success row per key, then start again`,
  );
}
