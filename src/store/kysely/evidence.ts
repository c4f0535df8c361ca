import { sql, type Kysely, type Selectable } from 'kysely';
import type { EvidenceRole, FindingProof } from '../../reconcile/finding.js';
import type { Database, FindingsTable } from '../schema.js';
import { batchesOf } from '../../core/batches.js';

/** Ids per statement, well under every dialect's limit on bound parameters. */
export const IDS_PER_STATEMENT = 500;

type LeafRow = { id: string | number; leaf: string | number | bigint | null };

function leafRows(db: Kysely<Database>, role: EvidenceRole, ids: string[]): Promise<LeafRow[]> {
  switch (role) {
    case 'fulfilments':
      return db
        .selectFrom('fulfilments')
        .innerJoin('events', 'events.id', 'fulfilments.event_id')
        .select(['fulfilments.id as id', 'events.leaf_index as leaf'])
        .where('fulfilments.id', 'in', ids)
        .execute();
    case 'observations':
      return db
        .selectFrom('observations')
        .innerJoin('events', 'events.id', 'observations.event_id')
        .select(['observations.id as id', 'events.leaf_index as leaf'])
        .where('observations.id', 'in', ids)
        .execute();
    case 'warrants':
      // The literal type lets both planners use the partial index (migration 013).
      return db
        .selectFrom('events')
        .select(['warrant_id as id', 'leaf_index as leaf'])
        .where('type', '=', sql.lit('warrant.issued'))
        .where('warrant_id', 'in', ids)
        .execute()
        .then((rows) => rows.map((r) => ({ id: r.id ?? '', leaf: r.leaf })));
    case 'redemptions': {
      // A redemption is named by its event's id: the event is its only full record.
      const eventIds = ids.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
      if (eventIds.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('events')
        .select(['id', 'leaf_index as leaf'])
        .where('id', 'in', eventIds)
        .where('type', 'in', ['redemption.allowed', 'redemption.denied'])
        .execute();
    }
  }
}

/** See `ReconcileRepo.leavesOf`. */
export async function leavesOf(
  db: Kysely<Database>,
  role: EvidenceRole,
  ids: readonly string[],
): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  const unique = [...new Set(ids)];
  for (const ids of batchesOf(unique, IDS_PER_STATEMENT)) {
    for (const r of await leafRows(db, role, ids)) {
      out.set(String(r.id), r.leaf === null ? null : Number(r.leaf));
    }
  }
  return out;
}

/**
 * Findings raised before proofs were log indices stored the ids of their records
 * (a denied redemption by its event id); they are resolved to indices when read.
 */
interface LegacyEvidence {
  readonly fulfilments?: readonly string[];
  readonly observations?: readonly string[];
  readonly redemptions?: readonly string[];
}

const isProof = (e: unknown): e is FindingProof =>
  typeof e === 'object' &&
  e !== null &&
  'warrants' in e &&
  Object.values(e).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'number'));

const LEGACY_ROLES = ['fulfilments', 'observations', 'redemptions'] as const;

/** The proof of each stored finding, in order, reading older rows' record ids as indices. */
export async function findingProofs(
  db: Kysely<Database>,
  rows: readonly Selectable<FindingsTable>[],
): Promise<FindingProof[]> {
  const parsed = rows.map((r) => JSON.parse(r.evidence) as unknown);
  const legacy = parsed.filter((e): e is LegacyEvidence => !isProof(e));
  if (legacy.length === 0) return parsed as FindingProof[];
  const known = new Map<EvidenceRole, Map<string, number | null>>();
  for (const role of LEGACY_ROLES) {
    known.set(
      role,
      await leavesOf(
        db,
        role,
        legacy.flatMap((e) => e[role] ?? []),
      ),
    );
  }
  const pick = (e: LegacyEvidence, role: (typeof LEGACY_ROLES)[number]): number[] =>
    (e[role] ?? [])
      .flatMap((id) => {
        const leaf = known.get(role)?.get(id);
        return leaf === undefined || leaf === null ? [] : [leaf];
      })
      .sort((a, b) => a - b);
  return parsed.map((e) =>
    isProof(e)
      ? e
      : {
          warrants: [],
          redemptions: pick(e as LegacyEvidence, 'redemptions'),
          fulfilments: pick(e as LegacyEvidence, 'fulfilments'),
          observations: pick(e as LegacyEvidence, 'observations'),
        },
  );
}
