import type { Kysely, Selectable } from 'kysely';
import type { Decision, DecisionKind } from '../../approval/decision.js';
import { canonicalJson } from '../../core/canonical.js';
import type { DecisionId, PrincipalId, RequestId, WarrantId } from '../../core/ids.js';
import type { IdentityProof } from '../../core/vocabulary.js';
import type { RequestBody, RequestRecord, RequestState } from '../../request/request.js';
import type { RequestListFilter, RequestWriter } from '../../service/ports/requests.js';
import type { Database, RequestsTable } from '../schema.js';
import type { DialectSql } from './dialect.js';
import { rowWhere } from './rows.js';

const toRequest = (r: Selectable<RequestsTable>): RequestRecord => ({
  id: r.id as RequestId,
  body: JSON.parse(r.body) as RequestBody,
  state: r.state as RequestState,
  warrantId: r.warrant_id as WarrantId | null,
  updatedAt: r.updated_at,
});

/** Requests and the decisions on them. */
export class KyselyRequests implements RequestWriter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sql: DialectSql,
  ) {}

  async get(id: RequestId): Promise<RequestRecord | null> {
    const r = await rowWhere(this.db, 'requests', 'id', id);
    return r ? toRequest(r) : null;
  }

  /**
   * One page in (created_at, id) order, after the cursor row: a keyset read that the
   * (state, created_at, id) and (requester, created_at, id) indexes (migration 011)
   * serve without counting or skipping the rows before it.
   */
  async list(f: RequestListFilter): Promise<RequestRecord[]> {
    let q = this.db.selectFrom('requests').selectAll();
    if (f.states) q = q.where('state', 'in', f.states.length > 0 ? [...f.states] : ['']);
    if (f.pendingAt !== undefined) {
      q = q.where('state', '=', 'pending').where('pending_expires_at', '>', f.pendingAt);
    }
    const expiredAt = f.expiredAt;
    if (expiredAt !== undefined) {
      q = q.where((eb) =>
        eb.or([
          eb('state', '=', 'expired'),
          eb.and([eb('state', '=', 'pending'), eb('pending_expires_at', '<=', expiredAt)]),
        ]),
      );
    }
    if (f.subject !== undefined) q = q.where('subject', '=', f.subject);
    if (f.requester !== undefined) q = q.where('requester', '=', f.requester);
    if (f.notRequester !== undefined) q = q.where('requester', '!=', f.notRequester);
    const decider = f.notDecidedBy;
    if (decider !== undefined) {
      q = q.where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('decisions')
              .select('decisions.id')
              .whereRef('decisions.request_id', '=', 'requests.id')
              .where('decisions.approver', '=', decider),
          ),
        ),
      );
    }
    const dir = f.order === 'oldest' ? 'asc' : 'desc';
    const cmp = f.order === 'oldest' ? '>' : '<';
    const after = f.after;
    if (after !== undefined) {
      q = q.where((eb) =>
        eb.or([
          eb('created_at', cmp, after.createdAt),
          eb.and([eb('created_at', '=', after.createdAt), eb('id', cmp, after.id)]),
        ]),
      );
    }
    const rows = await q.orderBy('created_at', dir).orderBy('id', dir).limit(f.limit).execute();
    return rows.map(toRequest);
  }

  async approvalCounts(ids: readonly RequestId[]): Promise<Map<RequestId, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('decisions')
      .select(['request_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('request_id', 'in', [...ids])
      .where('decision', '=', 'approve')
      .groupBy('request_id')
      .execute();
    return new Map(rows.map((r) => [r.request_id as RequestId, Number(r.n)]));
  }

  async insert(r: RequestRecord): Promise<void> {
    await this.db
      .insertInto('requests')
      .values({
        id: r.id,
        body: JSON.stringify(r.body),
        state: r.state,
        requester: r.body.requester,
        subject: r.body.subject,
        environment: r.body.environment,
        created_at: r.body.createdAt,
        pending_expires_at: r.body.pendingExpiresAt,
        warrant_id: r.warrantId,
        updated_at: r.updatedAt,
      })
      .execute();
  }

  async transition(
    id: RequestId,
    from: RequestState,
    to: RequestState,
    at: string,
    warrantId?: WarrantId,
  ): Promise<boolean> {
    const res = await this.db
      .updateTable('requests')
      .set({ state: to, updated_at: at, ...(warrantId ? { warrant_id: warrantId } : {}) })
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async decisions(requestId: RequestId): Promise<Decision[]> {
    const rows = await this.db
      .selectFrom('decisions')
      .selectAll()
      .where('request_id', '=', requestId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map((d) => ({
      id: d.id as DecisionId,
      requestId: d.request_id as RequestId,
      requestDigest: d.request_digest as `sha256:${string}`,
      approver: d.approver as PrincipalId,
      decision: d.decision as DecisionKind,
      reason: d.reason,
      at: d.at,
      ...(d.approver_identity === null
        ? {}
        : { approverIdentity: JSON.parse(d.approver_identity) as IdentityProof }),
    }));
  }

  async insertDecision(d: Decision): Promise<void> {
    await this.db
      .insertInto('decisions')
      .values({
        id: d.id,
        request_id: d.requestId,
        request_digest: d.requestDigest,
        approver: d.approver,
        decision: d.decision,
        reason: d.reason,
        at: d.at,
        approver_identity:
          d.approverIdentity === undefined ? null : canonicalJson(d.approverIdentity),
      })
      .execute();
  }

  lock(id: RequestId): Promise<void> {
    return this.sql.lockRequest(this.db, id);
  }
}
