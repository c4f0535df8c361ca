import type { Kysely } from 'kysely';
import type { RecordPage } from '../../replay/compare-records.js';
import { storedEventRef, type EventRef, type RecordTable } from '../../replay/records.js';
import type { Database } from '../schema.js';

/** The events columns a record row's `event_id` reaches, read by a left join. */
interface EventColumns {
  readonly event_id: number | string | null;
  readonly found: number | string | null;
  readonly leaf: number | string | null;
}

// PostgreSQL's driver gives bigints as strings.
const n = (v: number | string | null): number | null => (v === null ? null : Number(v));

const storedRefOf = (r: EventColumns): EventRef | null =>
  storedEventRef(n(r.event_id), { exists: r.found !== null, leafIndex: n(r.leaf) });

/** See `AuditReader.recordPage`: keyset pages by primary key, each its own short statement. */
export async function recordPage(
  db: Kysely<Database>,
  table: RecordTable,
  after: string | null,
  limit: number,
): Promise<RecordPage> {
  switch (table) {
    case 'decisions': {
      const rows = await db
        .selectFrom('decisions')
        .select([
          'id',
          'request_id',
          'request_digest',
          'approver',
          'decision',
          'reason',
          'at',
          'approver_identity',
        ])
        .$if(after !== null, (q) => q.where('id', '>', after as string))
        .orderBy('id')
        .limit(limit)
        .execute();
      return {
        table,
        rows: rows.map((r) => ({
          id: r.id,
          requestId: r.request_id,
          requestDigest: r.request_digest,
          approver: r.approver,
          decision: r.decision,
          reason: r.reason,
          at: r.at,
          approverIdentity: r.approver_identity,
        })),
      };
    }
    case 'redemptions': {
      const rows = await db
        .selectFrom('redemptions as r')
        .leftJoin('events as e', 'e.id', 'r.event_id')
        .select([
          'r.id',
          'r.warrant_id',
          'r.outcome',
          'r.code',
          'r.use_number',
          'r.executor',
          'r.action',
          'r.at',
          'r.idempotency_key',
          'r.event_id',
          'e.id as found',
          'e.leaf_index as leaf',
        ])
        .$if(after !== null, (q) => q.where('r.id', '>', after as string))
        .orderBy('r.id')
        .limit(limit)
        .execute();
      return {
        table,
        rows: rows.map((r) => ({
          id: r.id,
          warrantId: r.warrant_id,
          outcome: r.outcome,
          code: r.code,
          useNumber: n(r.use_number),
          executor: r.executor,
          action: r.action,
          at: r.at,
          idempotencyKey: r.idempotency_key,
          event: storedRefOf(r),
        })),
      };
    }
    case 'fulfilments': {
      const rows = await db
        .selectFrom('fulfilments as f')
        .leftJoin('events as e', 'e.id', 'f.event_id')
        .select([
          'f.id',
          'f.request_id',
          'f.warrant_id',
          'f.receipt_id',
          'f.executor',
          'f.subject',
          'f.target',
          'f.phase',
          'f.outcome',
          'f.fingerprint',
          'f.detail',
          'f.event_id',
          'e.id as found',
          'e.leaf_index as leaf',
        ])
        .$if(after !== null, (q) => q.where('f.id', '>', after as string))
        .orderBy('f.id')
        .limit(limit)
        .execute();
      return {
        table,
        rows: rows.map((r) => ({
          id: r.id,
          requestId: r.request_id,
          warrantId: r.warrant_id,
          receiptId: r.receipt_id,
          executor: r.executor,
          subject: r.subject,
          target: r.target,
          phase: r.phase,
          outcome: r.outcome,
          fingerprint: r.fingerprint,
          detail: r.detail,
          event: storedRefOf(r),
        })),
      };
    }
    case 'observations': {
      const rows = await db
        .selectFrom('observations as o')
        .leftJoin('events as e', 'e.id', 'o.event_id')
        .select([
          'o.id',
          'o.observer',
          'o.subject',
          'o.target',
          'o.fact',
          'o.observed_at',
          'o.received_at',
          'o.event_id',
          'e.id as found',
          'e.leaf_index as leaf',
        ])
        .$if(after !== null, (q) => q.where('o.id', '>', after as string))
        .orderBy('o.id')
        .limit(limit)
        .execute();
      return {
        table,
        rows: rows.map((r) => ({
          id: r.id,
          observer: r.observer,
          subject: r.subject,
          target: r.target,
          fact: r.fact,
          observedAt: r.observed_at,
          receivedAt: r.received_at,
          event: storedRefOf(r),
        })),
      };
    }
  }
}
