import type { Kysely, Migration } from 'kysely';

/**
 * A redemption row names the event that recorded it, so reconciliation reads denials and
 * allowed uses from `redemptions` (with their codes as columns) and still cites their log
 * entries, instead of re-parsing every redemption leaf on each pass. Rows from before keep
 * no event id: a finding over them cites no redemption index.
 */
export function redemptionEvents(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('redemptions').addColumn('event_id', 'bigint').execute();
      await db.schema
        .createIndex('redemptions_outcome')
        .on('redemptions')
        .columns(['outcome', 'warrant_id'])
        .execute();
    },
  };
}
