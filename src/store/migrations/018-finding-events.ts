import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../../service/ports/store.js';

/**
 * A finding that names no request (an observed grant judged against a warrant's scope)
 * belongs in the bundle of the request whose warrant its proof cites, with the events
 * that moved it since. Those events link only the NHI, so evidence finds them by the
 * finding id inside the hashed leaf. A partial index holds only finding events: nothing
 * on the redemption path maintains it, and finding ids are ordered by time (decision
 * 0033), so a pass's inserts append. The expression and the list of types must stay
 * byte for byte what `entriesForFindings` (kysely/log.ts) asks, or the planner will
 * not use it.
 */
export function findingEvents(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('events_finding')
        .ifNotExists()
        .on('events')
        .expression(
          dialect === 'postgres'
            ? sql`((leaf::jsonb -> 'data') ->> 'id')`
            : sql`json_extract(leaf, '$.data.id')`,
        )
        .where(
          sql.ref('type'),
          'in',
          sql`('finding.raised', 'finding.acknowledged', 'finding.resolved', 'finding.reopened')`,
        )
        .execute();
    },
  };
}
