import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/**
 * Migrations are code, not files, so the package works from any install path.
 * Column types stay within what both dialects accept; only auto-increment keys differ.
 */
export function migrations(dialect: Dialect): MigrationProvider {
  const serial = dialect === 'sqlite' ? 'integer' : 'bigserial';
  const bigint = dialect === 'sqlite' ? 'integer' : 'bigint';
  const m001: Migration = {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('nhis')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('requester', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('environment', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('pending_expires_at', 'text', (c) => c.notNull())
        .addColumn('warrant_id', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('requests_state_created')
        .on('requests')
        .columns(['state', 'created_at'])
        .execute();
      await db.schema
        .createTable('decisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull().references('requests.id'))
        .addColumn('request_digest', 'text', (c) => c.notNull())
        .addColumn('approver', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addUniqueConstraint('decisions_one_per_approver', ['request_id', 'approver'])
        .execute();
      await db.schema
        .createTable('warrants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('request_id', 'text', (c) => c.notNull().unique().references('requests.id'))
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('claims', 'text', (c) => c.notNull())
        .addColumn('uses', 'integer', (c) => c.notNull())
        .addColumn('max_uses', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_by', 'text')
        .addColumn('revoke_reason', 'text')
        .addCheckConstraint('warrants_uses_bounded', sql`uses >= 0 and uses <= max_uses`)
        .execute();
      await db.schema
        .createTable('redemptions')
        .addColumn('seq', serial, (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('warrant_id', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('code', 'text')
        .addColumn('use_number', 'integer')
        .addColumn('executor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('redemptions_warrant')
        .on('redemptions')
        .column('warrant_id')
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('id', serial, (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text')
        .addColumn('warrant_id', 'text')
        .addColumn('nhi_id', 'text')
        .addColumn('leaf', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', 'text', (c) => c.notNull())
        .addColumn('leaf_index', bigint, (c) => c.unique())
        .execute();
      await db.schema.createIndex('events_request').on('events').column('request_id').execute();
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('sealed_private', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
    },
  };
  const m002: Migration = {
    async up(db: Kysely<unknown>) {
      // The hash of every complete perfect subtree: node (level, idx) covers leaves
      // [idx * 2^level, (idx + 1) * 2^level). Proofs read O(log n) of these.
      await db.schema
        .createTable('log_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', bigint, (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_nodes_pk', ['level', 'idx'])
        .execute();
      await db.schema
        .createTable('checkpoints')
        .addColumn('size', bigint, (c) => c.primaryKey())
        .addColumn('root', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('events_pending')
        .on('events')
        .columns(['leaf_index', 'id'])
        .execute();
    },
  };
  return {
    getMigrations: () => Promise.resolve({ '001_approval_chain': m001, '002_merkle_log': m002 }),
  };
}
