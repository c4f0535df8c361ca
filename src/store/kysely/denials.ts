import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import { findingKey } from '../../reconcile/finding.js';
import type { DenialRecord } from '../../reconcile/input.js';
import type { Database } from '../schema.js';

/**
 * A redemption is cited by its event's id (see `leavesOf`); one recorded before
 * migration 008 kept no event id, and is cited by none.
 */
export const eventRef = (eventId: number | null, id: string): string =>
  eventId === null ? `unlinked:${id}` : String(eventId);

/**
 * A denial whose event is in the log, or one from before migration 008 that has none: a
 * finding cites its denials by log index, so one still queued is judged at the next pass
 * rather than holding back, pass after pass, a finding on a caller who keeps going.
 */
export const inTheLog = (eb: ExpressionBuilder<Database, 'redemptions'>) =>
  eb.or([
    eb('redemptions.event_id', 'is', null),
    eb.exists(
      eb
        .selectFrom('events')
        .select('events.id')
        .whereRef('events.id', '=', 'redemptions.event_id')
        .where('events.leaf_index', 'is not', null),
    ),
  ]);

/** A `redemptions` row of a denial, as the reconciler reads it. */
export const denialOf = (r: {
  readonly id: string;
  readonly event_id: number | bigint | string | null;
  readonly warrant_id: string | null;
  readonly request_id: string | null;
  readonly code: string | null;
  readonly executor: string;
  readonly at: string;
}): DenialRecord => ({
  id: eventRef(r.event_id === null ? null : Number(r.event_id), r.id),
  warrantId: r.warrant_id,
  requestId: r.request_id,
  code: r.code ?? '',
  executor: r.executor,
  at: r.at,
});

/** The columns of a denial's row that `denialOf` reads, but for its warrant's request. */
export const DENIAL_COLUMNS = [
  'redemptions.seq',
  'redemptions.id',
  'redemptions.event_id',
  'redemptions.warrant_id',
  'redemptions.code',
  'redemptions.executor',
  'redemptions.at',
] as const;

/** See `ReconciliationReader.unattributedDenials`. */
export async function unattributedDenials(db: Kysely<Database>): Promise<DenialRecord[]> {
  // Served by redemptions_warrant_outcome: the rows whose warrant id is null. One look-up on
  // the unique key skips a caller whose first finding is live (it stands, so its rows cannot
  // change a verdict) and, once a person resolved it, the rows that resolution settled: only
  // those after it can count (decision 0037). A resolved finding's updated_at is its
  // resolution's instant.
  // `keyPart` in SQL: the backslashes first, so that the ones it adds are not doubled.
  const executor = sql`replace(replace(${sql.ref('redemptions.executor')}, ${'\\'}, ${'\\\\'}), ${'|'}, ${'\\|'})`;
  const flagged = sql<string>`${findingKey.callerAbuse('')} || ${executor}`;
  const rows = await db
    .selectFrom('redemptions')
    .select(DENIAL_COLUMNS)
    .where('redemptions.warrant_id', 'is', null)
    .where('redemptions.outcome', '=', 'deny')
    .where(inTheLog)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('findings')
            .select('findings.id')
            .where('findings.key', '=', flagged)
            .where((f) =>
              f.or([
                f('findings.state', '!=', 'resolved'),
                f('findings.updated_at', '>=', f.ref('redemptions.at')),
              ]),
            ),
        ),
      ),
    )
    .orderBy('redemptions.seq')
    .execute();
  return rows.map((r) => denialOf({ ...r, request_id: null }));
}
