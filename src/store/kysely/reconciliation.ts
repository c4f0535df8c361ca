import type { Kysely } from 'kysely';
import { DENIAL_COLUMNS, denialOf, eventRef, inTheLog, unattributedDenials } from './denials.js';
import type { EvidenceRole } from '../../reconcile/finding.js';
import type { ApprovedGrant, DenialRecord, RedemptionRecord } from '../../reconcile/input.js';
import type { RequestBody } from '../../request/request.js';
import type {
  ChangedSubjects,
  ExpiringWarrant,
  ExpiriesPage,
  ExpiryCursor,
  ReconciliationWriter,
  Watermark,
} from '../../service/ports/reconciliation.js';
import type { Database } from '../schema.js';
import type { SubjectRange } from '../../service/ports/subjects.js';
import { IDS_PER_STATEMENT, leavesOf } from './evidence.js';
import { batchesOf } from '../../core/batches.js';
import { inSubjects } from './subject-range.js';
import { advanceWatermark, changedSubjects, readWatermark } from './watermark.js';

/** The redeemed target recorded in a redemption's action (its JSON column). */
function targetOf(action: string): string | null {
  const target = (JSON.parse(action) as { target?: unknown }).target;
  return typeof target === 'string' ? target : null;
}

/**
 * The rows `read` returns for every warrant (no ids given) or for the ids given, in
 * chunks, merged back into the order they were recorded. A slice names its warrants by
 * id: selecting them again by subject, as a subquery of each read, took longer than the
 * reads themselves (about 1.5 s of a pass over 100k warrants).
 */
async function ofWarrants<R extends { readonly seq: number | bigint }>(
  warrants: readonly string[] | undefined,
  read: (ids: readonly string[] | undefined) => Promise<R[]>,
): Promise<R[]> {
  if (warrants === undefined) return read(undefined);
  if (warrants.length === 0) return [];
  const parts: R[][] = [];
  for (const ids of batchesOf(warrants, IDS_PER_STATEMENT)) parts.push(await read(ids));
  if (parts.length === 1) return parts[0] as R[];
  return parts.flat().sort((a, b) => Number(a.seq) - Number(b.seq));
}

/** What reconciliation reads beside fulfilments, observations and findings. */
export class KyselyReconciliation implements ReconciliationWriter {
  constructor(private readonly db: Kysely<Database>) {}

  grants(range?: SubjectRange): Promise<ApprovedGrant[]> {
    return this.#grants(undefined, range);
  }

  grantsForSubject(subject: string): Promise<ApprovedGrant[]> {
    return this.#grants(subject);
  }

  async subjects(after: string | null, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('nhis').select('id');
    if (after !== null) q = q.where('id', '>', after);
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  async #grants(subject?: string, range?: SubjectRange): Promise<ApprovedGrant[]> {
    let q = this.db
      .selectFrom('warrants')
      .innerJoin('requests', 'requests.id', 'warrants.request_id')
      .select([
        'warrants.id as warrant_id',
        'warrants.request_id',
        'warrants.revoked_at',
        'warrants.not_before',
        'warrants.not_after',
        'requests.body',
      ]);
    if (subject !== undefined) {
      q = q.where('requests.subject', '=', subject).orderBy('warrants.issued_at', 'desc');
    }
    if (range !== undefined) q = q.where(inSubjects('requests.subject', range));
    const rows = await q.execute();
    return rows.map((r) => {
      const b = JSON.parse(r.body) as RequestBody;
      return {
        requestId: r.request_id,
        warrantId: r.warrant_id,
        subject: b.subject,
        action: b.action,
        scope: b.scope,
        environment: b.environment,
        targets: b.targets,
        // The warrant's own window: a relative request window starts at issue.
        notBefore: r.not_before ?? b.notBefore ?? '',
        notAfter: r.not_after ?? b.notAfter ?? '',
        revokedAt: r.revoked_at,
      };
    });
  }

  async denials(warrants?: readonly string[]): Promise<DenialRecord[]> {
    const rows = await ofWarrants(warrants, (ids) => {
      let q = this.db
        .selectFrom('redemptions')
        .innerJoin('warrants', 'warrants.id', 'redemptions.warrant_id')
        .select([...DENIAL_COLUMNS, 'warrants.request_id'])
        .where('redemptions.outcome', '=', 'deny')
        .where(inTheLog);
      if (ids !== undefined) q = q.where('redemptions.warrant_id', 'in', ids);
      return q.orderBy('redemptions.seq').execute();
    });
    return rows.map(denialOf);
  }

  unattributedDenials(): Promise<DenialRecord[]> {
    return unattributedDenials(this.db);
  }

  async allowedRedemptions(warrants?: readonly string[]): Promise<RedemptionRecord[]> {
    const rows = await ofWarrants(warrants, (ids) => {
      let q = this.db
        .selectFrom('redemptions')
        .select([
          'redemptions.seq',
          'redemptions.id',
          'redemptions.event_id',
          'redemptions.warrant_id',
          'redemptions.action',
          'redemptions.at',
        ])
        .where('redemptions.outcome', '=', 'allow')
        .where('redemptions.warrant_id', 'is not', null);
      if (ids !== undefined) q = q.where('redemptions.warrant_id', 'in', ids);
      return q.orderBy('redemptions.seq').execute();
    });
    return rows.map((r) => ({
      id: eventRef(r.event_id === null ? null : Number(r.event_id), r.id),
      warrantId: r.warrant_id as string,
      receiptId: r.id,
      target: targetOf(r.action),
      at: r.at,
    }));
  }

  async warrantsToExpire(
    now: string,
    after: ExpiryCursor | null,
    limit: number,
  ): Promise<ExpiriesPage> {
    // Through the partial index of warrants not yet recorded (migration 015), in its order.
    let q = this.#unrecorded().select('warrants.not_after').where('warrants.not_after', '<=', now);
    if (after !== null)
      q = q.where((eb) =>
        eb(
          eb.refTuple('warrants.not_after', 'warrants.id'),
          '>',
          eb.tuple(after.notAfter, after.id),
        ),
      );
    const rows = await q
      .orderBy('warrants.not_after')
      .orderBy('warrants.id')
      .limit(limit)
      .execute();
    const due: ExpiringWarrant[] = rows.map((r) => ({
      warrantId: r.id,
      requestId: r.request_id,
      subject: r.subject,
      notAfter: r.not_after as string,
    }));
    const last = rows.length < limit ? undefined : rows[rows.length - 1];
    return {
      due: after === null ? [...(await this.#legacyDue(now)), ...due] : due,
      next: last === undefined ? null : { notAfter: last.not_after as string, id: last.id },
    };
  }

  #unrecorded() {
    return this.db
      .selectFrom('warrants')
      .innerJoin('requests', 'requests.id', 'warrants.request_id')
      .select(['warrants.id', 'warrants.request_id', 'requests.subject'])
      .where('warrants.expiry_recorded_at', 'is', null);
  }

  /** Rows from before migration 006 keep their window only in the request body. */
  async #legacyDue(now: string): Promise<ExpiringWarrant[]> {
    const rows = await this.#unrecorded()
      .select('requests.body')
      .where('warrants.not_after', 'is', null)
      .execute();
    return rows
      .map((r) => ({
        warrantId: r.id,
        requestId: r.request_id,
        subject: r.subject,
        notAfter: (JSON.parse(r.body) as RequestBody).notAfter ?? '',
      }))
      .filter((w) => w.notAfter <= now);
  }

  async markExpiriesRecorded(warrantIds: readonly string[], at: string): Promise<Set<string>> {
    if (warrantIds.length === 0) return new Set();
    const rows = await this.db
      .updateTable('warrants')
      .set({ expiry_recorded_at: at })
      .where('id', 'in', warrantIds)
      .where('expiry_recorded_at', 'is', null)
      .returning('id')
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  leavesOf(role: EvidenceRole, ids: readonly string[]): Promise<Map<string, number | null>> {
    return leavesOf(this.db, role, ids);
  }

  watermark(): Promise<Watermark | null> {
    return readWatermark(this.db);
  }

  changedSubjects(
    since: { readonly treeSize: number; readonly at: string } | null,
  ): Promise<ChangedSubjects> {
    return changedSubjects(this.db, since);
  }

  advanceWatermark(mark: Watermark): Promise<void> {
    return advanceWatermark(this.db, mark);
  }
}
