import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { ChangedSubjects, Watermark } from '../../service/ports/reconciliation.js';
import type { Database } from '../schema.js';

/** The one row of `reconcile_watermarks`: a deployment's passes share one reach. */
const NAME = 'passes';

/**
 * The one event a pass writes that changes no rule's input: a rule reads a warrant's window,
 * not whether its expiry was recorded. A pass's findings do count (a rule reads the findings
 * already raised, to resolve them): a pass that began before the mark was written may raise
 * or resolve one after it, and the next pass must judge that subject again (decision 0029).
 */
const PASS_WRITES = ['warrant.expired'];

export async function readWatermark(db: Kysely<Database>): Promise<Watermark | null> {
  const r = await db
    .selectFrom('reconcile_watermarks')
    .selectAll()
    .where('name', '=', NAME)
    .executeTakeFirst();
  return r === undefined
    ? null
    : { treeSize: Number(r.tree_size), at: r.at, params: r.params, fullAt: r.full_at };
}

export async function advanceWatermark(db: Kysely<Database>, mark: Watermark): Promise<void> {
  const row = {
    name: NAME,
    tree_size: mark.treeSize,
    at: mark.at,
    params: mark.params,
    full_at: mark.fullAt,
  };
  // A pass that finishes after one that began later must not move the mark back.
  await db
    .insertInto('reconcile_watermarks')
    .values(row)
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({
          tree_size: mark.treeSize,
          at: mark.at,
          params: mark.params,
          full_at: sql<string>`case when ${mark.fullAt} > reconcile_watermarks.full_at
            then ${mark.fullAt} else reconcile_watermarks.full_at end`,
        })
        .where('reconcile_watermarks.tree_size', '<=', mark.treeSize),
    )
    .execute();
  // But a full pass overtaken that way still counts as the last pass over every subject,
  // or every pass after it would plan every subject again until one was not overtaken.
  await db
    .updateTable('reconcile_watermarks')
    .set({ full_at: mark.fullAt })
    .where('name', '=', NAME)
    .where('params', '=', mark.params)
    .where('full_at', '<', mark.fullAt)
    .execute();
}

/** See `ReconciliationReader.changedSubjects`. */
export async function changedSubjects(
  db: Kysely<Database>,
  since: { readonly treeSize: number; readonly at: string } | null,
): Promise<ChangedSubjects> {
  const size = await db
    .selectFrom('events')
    .select(sql<number | string | null>`max(leaf_index)`.as('last'))
    .executeTakeFirstOrThrow();
  const treeSize = size.last === null ? 0 : Number(size.last) + 1;
  if (since === null) return { subjects: [], treeSize, unattributed: true };
  const after = (eb: ExpressionBuilder<Database, 'events'>) =>
    eb.or([eb('leaf_index', 'is', null), eb('leaf_index', '>=', since.treeSize)]);
  const refused = await db
    .selectFrom('events')
    .select('id')
    .where(after)
    .where('nhi_id', 'is', null)
    .where('type', '=', 'redemption.denied')
    .limit(1)
    .executeTakeFirst();
  const logged = db
    .selectFrom('events')
    .select('nhi_id as subject')
    .where(after)
    .where('nhi_id', 'is not', null)
    .where('type', 'not in', PASS_WRITES);
  const open = db
    .selectFrom('warrants')
    .innerJoin('requests', 'requests.id', 'warrants.request_id')
    .select('requests.subject as subject')
    .where((eb) =>
      eb.or([eb('warrants.not_after', '>=', since.at), eb('warrants.not_after', 'is', null)]),
    );
  const rows = await db
    .selectFrom(logged.union(open).as('changed'))
    .select('subject')
    .orderBy('subject')
    .execute();
  return {
    subjects: rows.map((r) => r.subject as string),
    treeSize,
    unattributed: refused !== undefined,
  };
}
