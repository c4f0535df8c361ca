import { sql, type Kysely, type Migration } from 'kysely';

/**
 * A finding that cites a warrant proves it by the leaf of its `warrant.issued` event.
 * Migration 006 dropped the index on events' request column, so that look-up scanned the
 * events of the log, once per page of findings. A partial index holds only the issuing
 * events: nothing on the redemption path maintains it.
 */
export function warrantIssuedEvents(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('events_warrant_issued')
        .on('events')
        .column('warrant_id')
        .where(sql.ref('type'), '=', sql.lit('warrant.issued'))
        .execute();
    },
  };
}
