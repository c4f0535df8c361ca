import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../../service/ports/store.js';

/**
 * A redemption row names the event that recorded it, so reconciliation reads denials and
 * allowed uses from `redemptions` (with their codes as columns) and still cites their log
 * entries, instead of re-parsing every redemption leaf on each pass. Rows from before keep
 * no event id: a finding over them cites no redemption index.
 */
export function redemptionEvents(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Before upgrades were atomic on SQLite (sqlite/open.ts), a start cut off between
      // these steps left the column without the index: such a database must run the rest.
      // PostgreSQL's upgrades always were.
      const column = sql`select 1 from pragma_table_info('redemptions') where name = 'event_id'`;
      const added = dialect === 'sqlite' && (await column.execute(db)).rows.length > 0;
      if (!added)
        await db.schema.alterTable('redemptions').addColumn('event_id', 'bigint').execute();
      await db.schema
        .createIndex('redemptions_outcome')
        .ifNotExists()
        .on('redemptions')
        .columns(['outcome', 'warrant_id'])
        .execute();
    },
  };
}
