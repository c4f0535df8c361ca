import { sql, type Kysely } from 'kysely';
import type { ChangedSubjects, Watermark } from '../../service/ports/reconciliation.js';
import type { Database } from '../schema.js';

/** The one row of `reconcile_watermarks`: a deployment's passes share one reach. */
const NAME = 'passes';

/**
 * Events a pass writes itself. They change no rule's input (a rule reads a warrant's
 * window, not whether its expiry was recorded, and a finding's key, not its state), so a
 * pass's own writes do not make the next pass plan every subject it touched again.
 */
const PASS_WRITES = [
  'warrant.expired',
  'finding.raised',
  'finding.acknowledged',
  'finding.resolved',
];

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
  if (since === null) return { subjects: [], treeSize };
  const logged = db
    .selectFrom('events')
    .select('nhi_id as subject')
    .where((eb) => eb.or([eb('leaf_index', 'is', null), eb('leaf_index', '>=', since.treeSize)]))
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
  return { subjects: rows.map((r) => r.subject as string), treeSize };
}
