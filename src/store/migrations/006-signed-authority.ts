import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../../service/ports/store.js';

/**
 * What is signed or hashed decides, not what a mutable column says:
 *
 * - Evidence finds a request's events by the request id inside the hashed leaf. The
 *   index on the unhashed `events.request_id` column goes; an index on the leaf's own
 *   `links.request` replaces it (the expression must match `leafRequest` in
 *   kysely-log-repo.ts exactly, or the planner will not use it).
 * - A warrant row keeps the exact approved window in milliseconds, beside the signed
 *   `nbf`/`exp` seconds, so redemption can check both. Rows from before take the window
 *   from their request's body.
 */
export function signedAuthority(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.dropIndex('events_request').execute();
      await db.schema
        .createIndex('events_leaf_request')
        .on('events')
        .expression(
          dialect === 'postgres'
            ? sql`((leaf::jsonb -> 'links') ->> 'request')`
            : sql`json_extract(leaf, '$.links.request')`,
        )
        .execute();
      await db.schema.alterTable('warrants').addColumn('not_before', 'text').execute();
      await db.schema.alterTable('warrants').addColumn('not_after', 'text').execute();
      const field = (name: string) =>
        dialect === 'postgres'
          ? sql`(select r.body::jsonb ->> ${name} from requests r where r.id = warrants.request_id)`
          : sql`(select json_extract(r.body, ${'$.' + name}) from requests r where r.id = warrants.request_id)`;
      await sql`update warrants set not_before = ${field('notBefore')}, not_after = ${field('notAfter')}`.execute(
        db,
      );
    },
  };
}
