import type { Kysely, Migration } from 'kysely';

/**
 * One index of redemptions by warrant instead of two. `redemptions_warrant (warrant_id)`
 * served a warrant's redemptions, and `redemptions_outcome (outcome, warrant_id)` a
 * pass's allowed uses and denials of a range of warrants. `(warrant_id, outcome)` serves
 * both: the first by its prefix, the second by one seek per warrant and outcome (a pass
 * always names its range of warrants; without one, the reads by outcome scan). Every
 * redemption wrote both, and in a group commit each dirtied a page per warrant in the
 * batch; with one, the commits of the redemption bench wrote about a fifth fewer WAL bytes.
 */
export function redemptionIndex(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('redemptions_warrant_outcome')
        // Before upgrades were atomic on SQLite (sqlite/open.ts), a start cut off between
        // these steps left some done: such a database must be able to run them again.
        .ifNotExists()
        .on('redemptions')
        .columns(['warrant_id', 'outcome'])
        .execute();
      await db.schema.dropIndex('redemptions_outcome').ifExists().execute();
      await db.schema.dropIndex('redemptions_warrant').ifExists().execute();
    },
  };
}
