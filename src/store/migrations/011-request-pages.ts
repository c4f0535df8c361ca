import type { Kysely, Migration } from 'kysely';

/**
 * Keyset pages for the console (issue 16): the inbox reads pending requests oldest
 * first after a (created_at, id) cursor, "my requests" reads one requester's, and
 * findings page by (raised_at, id). Each index ends in the cursor's columns, so a page
 * is a range scan of its own length however many rows come before it.
 */
export function requestPages(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('requests_state_created_id')
        .on('requests')
        .columns(['state', 'created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('requests_requester_created_id')
        .on('requests')
        .columns(['requester', 'created_at', 'id'])
        .execute();
      await db.schema
        .createIndex('findings_raised_id')
        .on('findings')
        .columns(['raised_at', 'id'])
        .execute();
    },
  };
}
