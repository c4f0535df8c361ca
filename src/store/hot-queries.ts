import type { Kysely } from 'kysely';
import type { EncodedEvent } from '../log/event.js';
import type { Database } from './schema.js';
import type { RedemptionRow } from './store.js';

/**
 * The statements every redemption runs, written once as Kysely builders. The generic
 * repo executes them directly; the SQLite store compiles them once and reuses the
 * prepared statements (see `sqlite/prepared.ts`), so both paths run the same SQL.
 */
export const hotQueries = {
  getWarrant: (db: Kysely<Database>, a: { id: string }) =>
    db.selectFrom('warrants').selectAll().where('id', '=', a.id),

  // The bound is the warrant's signed `max_uses`, passed in: a row whose `max_uses` was
  // raised behind the server's back cannot lift it (the row's own bound still applies too).
  consumeWarrantUse: (db: Kysely<Database>, a: { id: string; signedMaxUses: number }) =>
    db
      .updateTable('warrants')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('id', '=', a.id)
      .where('state', '=', 'active')
      .whereRef('uses', '<', 'max_uses')
      .where('uses', '<', a.signedMaxUses)
      .returning('uses'),

  insertRedemption: (db: Kysely<Database>, a: RedemptionValues) =>
    db.insertInto('redemptions').values(a),

  appendEvent: (db: Kysely<Database>, a: EventValues) =>
    db
      .insertInto('events')
      .values({ ...a, leaf_index: null })
      .returning('id'),
};

export interface RedemptionValues {
  readonly id: string;
  readonly warrant_id: string | null;
  readonly outcome: string;
  readonly code: string | null;
  readonly use_number: number | null;
  readonly executor: string;
  readonly action: string;
  readonly at: string;
}

export interface EventValues {
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly request_id: string | null;
  readonly warrant_id: string | null;
  readonly nhi_id: string | null;
  readonly leaf: string;
  readonly leaf_hash: string;
}

export const redemptionValues = (r: RedemptionRow): RedemptionValues => ({
  id: r.id,
  warrant_id: r.warrantId,
  outcome: r.outcome,
  code: r.code,
  use_number: r.useNumber,
  executor: r.executor,
  action: JSON.stringify(r.action),
  at: r.at,
});

export const eventValues = (e: EncodedEvent): EventValues => ({
  type: e.event.type,
  at: e.event.at,
  actor: e.event.actor,
  request_id: e.event.links.request ?? null,
  warrant_id: e.event.links.warrant ?? null,
  nhi_id: e.event.links.nhi ?? null,
  leaf: e.leaf,
  leaf_hash: e.leafHash,
});
