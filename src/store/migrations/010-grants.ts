import type { Kysely, Migration } from 'kysely';

/**
 * Brokered grants and the durable schedule that revokes them (issue 15). The schedule
 * lives in the store, not in a timer, so a restart or a second node picks it up; the
 * lease columns let exactly one node hold a grant's revocation at a time.
 */
export function grants(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('connector', 'text', (c) => c.notNull())
        .addColumn('warrant_id', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('handle', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .execute();
      // The sweep asks for due grants by state; revocation of a warrant asks by warrant.
      await db.schema.createIndex('grants_due').on('grants').columns(['state', 'due_at']).execute();
      await db.schema.createIndex('grants_warrant').on('grants').column('warrant_id').execute();
    },
  };
}
