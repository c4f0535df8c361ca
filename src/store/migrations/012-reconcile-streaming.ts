import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../../service/ports/store.js';

/**
 * Reconciliation reads one range of subjects at a time (docs/decisions/0024). Each of its
 * reads walks an index in the order it asks for, so no pass sorts or scans a whole table:
 *
 * - `observations_history`: every observation of one (subject, target, fact key) in the
 *   order the reconciler uses (`observed_at`, then `received_at`, then `id`). The newest per
 *   key, the changes of value (`LAG`/`LEAD`) and the observations either side of a claim are
 *   read from it. On PostgreSQL the id is ordered byte-wise (`COLLATE "C"`), as SQLite and
 *   JavaScript order it, so ties are broken the same way everywhere.
 * - `fulfilments_subject`: the reports of a range of subjects, oldest first.
 * - `findings_subject`: the findings already recorded for a range of subjects.
 *
 * Numbered 012: 011 belongs to another change made at the same time.
 */
export function reconcileStreaming(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const id = dialect === 'postgres' ? sql`id collate "C"` : sql`id`;
      await sql`create index observations_history on observations
        (subject, target, fact_key, observed_at, received_at, ${id})`.execute(db);
      await db.schema
        .createIndex('fulfilments_subject')
        .on('fulfilments')
        .columns(['subject', 'at'])
        .execute();
      await db.schema.createIndex('findings_subject').on('findings').column('subject').execute();
    },
  };
}
