import type { Kysely, Selectable } from 'kysely';
import type {
  Finding,
  FindingId,
  FindingKind,
  FindingProof,
  FindingResolution,
  FindingState,
} from '../../reconcile/finding.js';
import type { ExistingFinding } from '../../reconcile/input.js';
import type { FindingPageFilter, FindingWriter } from '../../service/ports/findings.js';
import type { Database, FindingsTable } from '../schema.js';
import { findingProofs } from './evidence.js';
import { rowWhere, anyRowWhere } from './rows.js';
import { inSubjects } from './subject-range.js';
import type { SubjectRange } from '../../service/ports/subjects.js';

const toFinding = (r: Selectable<FindingsTable>, evidence: FindingProof): Finding => ({
  id: r.id as FindingId,
  key: r.key,
  kind: r.kind as FindingKind,
  state: r.state as FindingState,
  requestId: r.request_id,
  warrantId: r.warrant_id,
  subject: r.subject,
  target: r.target,
  detail: r.detail,
  evidence,
  raisedAt: r.raised_at,
  updatedAt: r.updated_at,
  resolution: r.resolution === null ? null : (JSON.parse(r.resolution) as FindingResolution),
});

/** Findings by key, as the reconciler sees them: state, and who resolved them when. */
function existingByKey(
  rows: readonly { id: string; key: string; state: string; resolution: string | null }[],
): Map<string, ExistingFinding> {
  return new Map(
    rows.map((r) => {
      const resolution =
        r.resolution === null ? null : (JSON.parse(r.resolution) as FindingResolution);
      const found: ExistingFinding = {
        id: r.id,
        state: r.state as FindingState,
        automatic: resolution?.automatic === true,
        ...(resolution === null ? {} : { resolvedAt: resolution.at }),
      };
      return [r.key, found];
    }),
  );
}

/** What reconciliation found, and where each finding stands. */
export class KyselyFindings implements FindingWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(f: Finding, eventId: number): Promise<void> {
    await this.db.insertInto('findings').values(findingRow(f, eventId)).execute();
  }

  async update(
    id: string,
    from: FindingState,
    state: FindingState,
    resolution: FindingResolution | null,
    at: string,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('findings')
      .set({
        state,
        updated_at: at,
        resolution: resolution === null ? null : JSON.stringify(resolution),
      })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async reopen(id: string, resolvedAt: string, detail: string, evidence: FindingProof, at: string) {
    const r = await this.db
      .updateTable('findings')
      .set({
        state: 'open',
        detail,
        evidence: JSON.stringify(evidence),
        updated_at: at,
        resolution: null,
      })
      .where('id', '=', id)
      .where('state', '=', 'resolved')
      .where('updated_at', '=', resolvedAt)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async get(id: string): Promise<Finding | null> {
    const r = await rowWhere(this.db, 'findings', 'id', id);
    return r ? ((await this.#withProofs([r]))[0] ?? null) : null;
  }

  async list(state: FindingState | undefined, limit: number): Promise<Finding[]> {
    let q = this.db.selectFrom('findings').selectAll();
    if (state) q = q.where('state', '=', state);
    return this.#withProofs(
      await q.orderBy('raised_at', 'desc').orderBy('id').limit(limit).execute(),
    );
  }

  async page(f: FindingPageFilter): Promise<Finding[]> {
    let q = this.db.selectFrom('findings').selectAll();
    if (f.state) q = q.where('state', '=', f.state);
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.subject !== undefined) q = q.where('subject', '=', f.subject);
    const after = f.after;
    if (after) {
      q = q.where((eb) =>
        eb.or([
          eb('raised_at', '<', after.raisedAt),
          eb.and([eb('raised_at', '=', after.raisedAt), eb('id', '<', after.id)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('raised_at', 'desc')
      .orderBy('id', 'desc')
      .limit(f.limit)
      .execute();
    return this.#withProofs(rows);
  }

  async unlinkedOf(subject: string): Promise<Finding[]> {
    // Served by findings_subject (migration 012).
    const rows = await this.db
      .selectFrom('findings')
      .selectAll()
      .where('subject', '=', subject)
      .where('request_id', 'is', null)
      .orderBy('id')
      .execute();
    return this.#withProofs(rows);
  }

  async #withProofs(rows: readonly Selectable<FindingsTable>[]): Promise<Finding[]> {
    const proofs = await findingProofs(this.db, rows);
    return rows.map((r, i) => toFinding(r, proofs[i] as FindingProof));
  }

  async hasKey(key: string): Promise<boolean> {
    return anyRowWhere(this.db, 'findings', 'key', key);
  }

  async existing(): Promise<Map<string, ExistingFinding>> {
    const rows = await this.db
      .selectFrom('findings')
      .select(['id', 'key', 'state', 'resolution'])
      .execute();
    return existingByKey(rows);
  }

  async openByKind(): Promise<Map<FindingKind, number>> {
    // Served by the findings_state index; never reads a finding's detail or proof.
    const rows = await this.db
      .selectFrom('findings')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', '=', 'open')
      .groupBy('kind')
      .execute();
    return new Map(rows.map((r) => [r.kind as FindingKind, Number(r.n)]));
  }

  // Reconciliation in slices and batches (docs/decisions/0024).

  async existingIn(range: SubjectRange): Promise<Map<string, ExistingFinding>> {
    const rows = await this.db
      .selectFrom('findings')
      .select(['id', 'key', 'state', 'resolution'])
      .where(inSubjects('subject', range))
      .execute();
    return existingByKey(rows);
  }

  async keysRaised(keys: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
      const rows = await this.db
        .selectFrom('findings')
        .select('key')
        .where('key', 'in', keys.slice(i, i + KEYS_PER_STATEMENT))
        .execute();
      for (const r of rows) out.add(r.key);
    }
    return out;
  }

  async insertMany(rows: readonly { readonly finding: Finding; readonly eventId: number }[]) {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      await this.db
        .insertInto('findings')
        .values(
          rows
            .slice(i, i + ROWS_PER_INSERT)
            .map(({ finding, eventId }) => findingRow(finding, eventId)),
        )
        .execute();
    }
  }
}

/** A finding as its row, with the id of the event that raised it. */
const findingRow = (f: Finding, eventId: number) => ({
  id: f.id,
  key: f.key,
  kind: f.kind,
  state: f.state,
  request_id: f.requestId,
  warrant_id: f.warrantId,
  subject: f.subject,
  target: f.target,
  detail: f.detail,
  evidence: JSON.stringify(f.evidence),
  raised_at: f.raisedAt,
  updated_at: f.updatedAt,
  resolution: f.resolution === null ? null : JSON.stringify(f.resolution),
  event_id: eventId,
});

/** Bound parameters stay well under every dialect's limit (SQLite: 32,766; 14 per row). */
const KEYS_PER_STATEMENT = 500;
const ROWS_PER_INSERT = 500;
