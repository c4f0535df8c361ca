import type { Selectable } from 'kysely';
import type { NhiId, PrincipalId, ReceiptId, RequestId, WarrantId } from '../core/ids.js';
import type { Fulfilment, FulfilmentId, FulfilmentPhase } from '../fulfilment/fulfilment.js';
import type { ObservationId, Observation, ObservedFact } from '../observation/observation.js';
import type {
  EvidenceRole,
  Finding,
  FindingId,
  FindingKind,
  FindingProof,
  FindingResolution,
  FindingState,
} from '../reconcile/finding.js';
import type {
  ApprovedGrant,
  DenialRecord,
  ExistingFinding,
  RedemptionRecord,
} from '../reconcile/input.js';
import type { RequestBody } from '../request/request.js';
import { findingProofs, leavesOf } from './kysely-evidence.js';
import { KyselyReplayRepo } from './kysely-replay-repo.js';
import type { ExpiringWarrant, ReconcileRepo, WebhookDelivery } from './reconcile-repo.js';
import type { FindingsTable, WebhookDeliveriesTable } from './schema.js';

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

/** The denial code recorded in a `redemption.denied` leaf. */
function codeOf(leaf: string): string {
  const code = (JSON.parse(leaf) as { data: { code?: unknown } }).data.code;
  return typeof code === 'string' ? code : '';
}

/** The receipt id and redeemed target recorded in a `redemption.allowed` leaf. */
function receiptOf(leaf: string): { receiptId: string; target: string | null } {
  const receipt = (
    JSON.parse(leaf) as { data: { receipt?: { jti?: unknown; action?: { target?: unknown } } } }
  ).data.receipt;
  const target = receipt?.action?.target;
  return {
    receiptId: typeof receipt?.jti === 'string' ? receipt.jti : '',
    target: typeof target === 'string' ? target : null,
  };
}

const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDelivery => ({
  id: r.id,
  endpoint: r.endpoint,
  eventType: r.event_type,
  payload: r.payload,
  state: r.state as WebhookDelivery['state'],
  attempts: Number(r.attempts),
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  createdAt: r.created_at,
});

/** Fulfilments, observations, findings and webhook deliveries over any Kysely executor. */
export class KyselyReconcileRepo extends KyselyReplayRepo implements ReconcileRepo {
  async insertFulfilment(f: Fulfilment, eventId: number): Promise<void> {
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

  async hasSuccessfulFulfilment(
    receiptId: string,
    target: string,
    phase: FulfilmentPhase,
  ): Promise<boolean> {
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

  async listFulfilments(): Promise<Fulfilment[]> {
    const rows = await this.db.selectFrom('fulfilments').selectAll().orderBy('at').execute();
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

  async observationExists(key: string): Promise<boolean> {
    return (
      (await this.db
        .selectFrom('observations')
        .select('id')
        .where('key', '=', key)
        .executeTakeFirst()) !== undefined
    );
  }

  async latestObservedAt(subject: string, target: string, factKey: string): Promise<string | null> {
    const r = await this.db
      .selectFrom('observations')
      .select('observed_at')
      .where('subject', '=', subject)
      .where('target', '=', target)
      .where('fact_key', '=', factKey)
      .orderBy('observed_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r?.observed_at ?? null;
  }

  async insertObservation(
    o: Observation,
    key: string,
    factKey: string,
    eventId: number,
  ): Promise<void> {
    await this.db
      .insertInto('observations')
      .values({
        id: o.id,
        key,
        observer: o.observer,
        subject: o.subject,
        target: o.target,
        fact_key: factKey,
        fact: JSON.stringify(o.fact),
        observed_at: o.observedAt,
        received_at: o.receivedAt,
        event_id: eventId,
      })
      .execute();
  }

  async listObservations(): Promise<Observation[]> {
    const rows = await this.db
      .selectFrom('observations')
      .selectAll()
      .orderBy('observed_at')
      .execute();
    return rows.map((r) => ({
      id: r.id as ObservationId,
      observer: r.observer as PrincipalId,
      subject: r.subject as NhiId,
      target: r.target,
      observedAt: r.observed_at,
      fact: JSON.parse(r.fact) as ObservedFact,
      receivedAt: r.received_at,
    }));
  }

  async insertFinding(f: Finding, eventId: number): Promise<void> {
    await this.db
      .insertInto('findings')
      .values({
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
      })
      .execute();
  }

  async updateFinding(
    id: string,
    state: FindingState,
    resolution: FindingResolution | null,
    at: string,
  ): Promise<void> {
    await this.db
      .updateTable('findings')
      .set({
        state,
        updated_at: at,
        resolution: resolution === null ? null : JSON.stringify(resolution),
      })
      .where('id', '=', id)
      .execute();
  }

  async getFinding(id: string): Promise<Finding | null> {
    const r = await this.db
      .selectFrom('findings')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? ((await this.#findings([r]))[0] ?? null) : null;
  }

  async listFindings(state: FindingState | undefined, limit: number): Promise<Finding[]> {
    let q = this.db.selectFrom('findings').selectAll();
    if (state) q = q.where('state', '=', state);
    return this.#findings(
      await q.orderBy('raised_at', 'desc').orderBy('id').limit(limit).execute(),
    );
  }

  async #findings(rows: readonly Selectable<FindingsTable>[]): Promise<Finding[]> {
    const proofs = await findingProofs(this.db, rows);
    return rows.map((r, i) => toFinding(r, proofs[i] as FindingProof));
  }

  async existingFindings(): Promise<Map<string, ExistingFinding>> {
    const rows = await this.db
      .selectFrom('findings')
      .select(['id', 'key', 'state', 'resolution'])
      .execute();
    return new Map(
      rows.map((r) => [
        r.key,
        {
          id: r.id,
          state: r.state as FindingState,
          automatic:
            r.resolution === null
              ? false
              : (JSON.parse(r.resolution) as FindingResolution).automatic,
        },
      ]),
    );
  }

  async listApprovedGrants(): Promise<ApprovedGrant[]> {
    return this.#grants();
  }

  async grantsForSubject(subject: string): Promise<ApprovedGrant[]> {
    return this.#grants(subject);
  }

  async #grants(subject?: string): Promise<ApprovedGrant[]> {
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

  async listDenials(): Promise<DenialRecord[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['id', 'warrant_id', 'request_id', 'actor', 'at', 'leaf'])
      .where('type', '=', 'redemption.denied')
      .where('warrant_id', 'is not', null)
      .execute();
    return rows.map((r) => ({
      id: String(r.id),
      warrantId: r.warrant_id as string,
      requestId: r.request_id,
      code: codeOf(r.leaf),
      executor: r.actor,
      at: r.at,
    }));
  }

  async listAllowedRedemptions(): Promise<RedemptionRecord[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['id', 'warrant_id', 'at', 'leaf'])
      .where('type', '=', 'redemption.allowed')
      .where('warrant_id', 'is not', null)
      .execute();
    return rows.map((r) => ({
      id: String(r.id),
      warrantId: r.warrant_id as string,
      ...receiptOf(r.leaf),
      at: r.at,
    }));
  }

  async warrantsToExpire(now: string): Promise<ExpiringWarrant[]> {
    const rows = await this.db
      .selectFrom('warrants')
      .innerJoin('requests', 'requests.id', 'warrants.request_id')
      .select([
        'warrants.id',
        'warrants.request_id',
        'warrants.not_after',
        'requests.subject',
        'requests.body',
      ])
      .where('warrants.expiry_recorded_at', 'is', null)
      .execute();
    return rows
      .map((r) => ({
        warrantId: r.id,
        requestId: r.request_id,
        subject: r.subject,
        notAfter: r.not_after ?? (JSON.parse(r.body) as RequestBody).notAfter ?? '',
      }))
      .filter((w) => w.notAfter <= now);
  }

  async markExpiryRecorded(warrantId: string, at: string): Promise<void> {
    await this.db
      .updateTable('warrants')
      .set({ expiry_recorded_at: at })
      .where('id', '=', warrantId)
      .execute();
  }

  async leavesOf(role: EvidenceRole, ids: readonly string[]): Promise<Map<string, number | null>> {
    return leavesOf(this.db, role, ids);
  }

  async insertDelivery(d: WebhookDelivery): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        id: d.id,
        endpoint: d.endpoint,
        event_type: d.eventType,
        payload: d.payload,
        state: d.state,
        attempts: d.attempts,
        next_attempt_at: d.nextAttemptAt,
        last_error: d.lastError,
        created_at: d.createdAt,
      })
      .execute();
  }

  async dueDeliveries(now: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async updateDelivery(
    id: string,
    p: Pick<WebhookDelivery, 'state' | 'attempts' | 'nextAttemptAt' | 'lastError'>,
  ): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        state: p.state,
        attempts: p.attempts,
        next_attempt_at: p.nextAttemptAt,
        last_error: p.lastError,
      })
      .where('id', '=', id)
      .execute();
  }

  async listDeliveries(state: WebhookDelivery['state'], limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('state', '=', state)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }
}
