import type { Kysely, Migration } from 'kysely';

/**
 * Incremental reconciliation (docs/decisions/0029). `reconcile_watermarks` holds, for the
 * last complete pass, the log size its snapshot held and its instant: the next pass plans
 * only the subjects whose events came after that size and those with a warrant window
 * still open at that instant. `warrants_not_after` finds the latter without a scan of
 * every warrant (the partial index of migration 015 loses a warrant once its expiry is
 * recorded, which is before the pass that must still judge its ended window).
 */
export function reconcileWatermark(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('reconcile_watermarks')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('tree_size', 'bigint', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('full_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('warrants_not_after')
        .on('warrants')
        .columns(['not_after', 'request_id'])
        .execute();
    },
  };
}
