import type { Kysely } from 'kysely';
import type { NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../../core/ids.js';
import type { Fulfilment, FulfilmentId, FulfilmentPhase } from '../../fulfilment/fulfilment.js';
import type { FulfilmentWriter } from '../../service/ports/fulfilments.js';
import type { SubjectRange } from '../../service/ports/subjects.js';
import type { Database } from '../schema.js';
import { inSubjects } from './subject-range.js';

/** What executors reported at each target, bound to the receipts they hold. */
export class KyselyFulfilments implements FulfilmentWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(f: Fulfilment, eventId: number): Promise<void> {
    await this.db
      .insertInto('fulfilments')
      .values({
        id: f.id,
        request_id: f.requestId,
        warrant_id: f.warrantId,
        receipt_id: f.receiptId,
        executor: f.executor,
        subject: f.subject,
        target: f.target,
        phase: f.phase,
        outcome: f.outcome,
        fingerprint: f.fingerprint,
        detail: f.detail,
        at: f.at,
        event_id: eventId,
      })
      .execute();
  }

  async hasSuccess(receiptId: string, target: string, phase: FulfilmentPhase): Promise<boolean> {
    const r = await this.db
      .selectFrom('fulfilments')
      .select('id')
      .where('receipt_id', '=', receiptId)
      .where('target', '=', target)
      .where('phase', '=', phase)
      .where('outcome', '=', 'success')
      .executeTakeFirst();
    return r !== undefined;
  }

  async list(range?: SubjectRange): Promise<Fulfilment[]> {
    let q = this.db.selectFrom('fulfilments').selectAll();
    if (range !== undefined) q = q.where(inSubjects('subject', range));
    const rows = await q.orderBy('at').execute();
    return rows.map((r) => ({
      id: r.id as FulfilmentId,
      requestId: r.request_id as RequestId,
      warrantId: r.warrant_id as WarrantId,
      receiptId: r.receipt_id as ReceiptId,
      executor: r.executor as PrincipalId,
      subject: r.subject as NhiId,
      target: r.target,
      phase: r.phase as FulfilmentPhase,
      outcome: r.outcome as Fulfilment['outcome'],
      fingerprint: r.fingerprint,
      detail: r.detail,
      at: r.at,
    }));
  }
}
