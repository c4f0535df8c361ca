import { sql, type Kysely, type Migration } from 'kysely';

/**
 * A redemption may carry the caller's idempotency key (an admission webhook sends the
 * AdmissionReview `uid`): a retry with the same key by the same executor answers the
 * first allowed redemption again and spends nothing. The partial unique index makes
 * two racing retries spend one use between them; denials spend nothing, so they may
 * repeat a key.
 */
export function idempotentRedemptions(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('redemptions').addColumn('idempotency_key', 'text').execute();
      await db.schema
        .createIndex('redemptions_idempotency')
        .unique()
        .on('redemptions')
        .columns(['executor', 'idempotency_key'])
        .where(sql.ref('outcome'), '=', 'allow')
        .where(sql.ref('idempotency_key'), 'is not', null)
        .execute();
    },
  };
}
