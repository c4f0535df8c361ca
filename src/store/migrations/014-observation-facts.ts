import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../../service/ports/store.js';

/**
 * A reconciliation pass walks every observation's history in order (docs/decisions/0024).
 * Through `observations_history` that walk looked each row up in the table for its value:
 * a million random look-ups for a million observations, most of a big pass's reads.
 *
 * On SQLite `observations_facts` carries the value and the observer after the history's
 * columns, so the walk, the newest of each fact and the neighbours of a claim are read
 * from the index alone. It replaces both older indexes: `observations_latest` was a
 * prefix of the history, so an observation's insert maintains one index fewer.
 *
 * On PostgreSQL the history index stays as it is: a b-tree entry is bounded (about
 * 2.7 kB), and a value beside keys of up to 233 characters of any script could pass it
 * and refuse a valid observation. Only the redundant prefix index is dropped there.
 */
export function observationFacts(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (dialect === 'sqlite') {
        await sql`create index observations_facts on observations
          (subject, target, fact_key, observed_at, received_at, id, fact, observer)`.execute(db);
        await db.schema.dropIndex('observations_history').execute();
      }
      await db.schema.dropIndex('observations_latest').execute();
    },
  };
}
