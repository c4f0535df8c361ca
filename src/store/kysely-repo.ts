import type { Kysely, Selectable } from 'kysely';
import type { Decision, DecisionKind } from '../approval/decision.js';
import type { DecisionId, NhiId, PrincipalId, RequestId, WarrantId } from '../core/ids.js';
import { canonicalJson } from '../core/canonical.js';
import type { IdentityProof } from '../identity/proof.js';
import type { KeyState, SigningKeyRecord } from '../keys/keyring.js';
import type { EncodedEvent } from '../log/event.js';
import { nhiKey } from '../nhi/key.js';
import type { Nhi } from '../nhi/nhi.js';
import type { NhiKind } from '../core/vocabulary.js';
import type { RequestBody, RequestRecord, RequestState } from '../request/request.js';
import type { WarrantClaims, WarrantRecord, WarrantState } from '../warrant/warrant.js';
import { eventValues, hotQueries, redemptionValues } from './hot-queries.js';
import { KyselyLogRepo } from './kysely-log-repo.js';
import type { Database, NhisTable, RequestsTable, WarrantsTable } from './schema.js';
import type { RedemptionRow, Repo, RequestListFilter } from './store.js';

const toNhi = (r: Selectable<NhisTable>): Nhi => ({
  id: r.id as NhiId,
  kind: r.kind as NhiKind,
  owner: r.owner,
  description: r.description,
  createdAt: r.created_at,
  createdBy: r.created_by,
});

const toRequest = (r: Selectable<RequestsTable>): RequestRecord => ({
  id: r.id as RequestId,
  body: JSON.parse(r.body) as RequestBody,
  state: r.state as RequestState,
  warrantId: r.warrant_id as WarrantId | null,
  updatedAt: r.updated_at,
});

export const toWarrant = (w: Selectable<WarrantsTable>): WarrantRecord => {
  const claims = JSON.parse(w.claims) as WarrantClaims;
  return {
    id: w.id as WarrantId,
    requestId: w.request_id as RequestId,
    kid: w.kid,
    token: w.token,
    claims,
    notBefore: w.not_before ?? new Date(claims.nbf * 1000).toISOString(),
    notAfter: w.not_after ?? new Date(claims.exp * 1000).toISOString(),
    uses: Number(w.uses),
    maxUses: Number(w.max_uses),
    state: w.state as WarrantState,
    issuedAt: w.issued_at,
    revokedAt: w.revoked_at,
    revokedBy: w.revoked_by,
    revokeReason: w.revoke_reason,
  };
};

/** The `Repo` over any Kysely executor: the database itself or an open transaction. */
export class KyselyRepo extends KyselyLogRepo implements Repo {
  constructor(db: Kysely<Database>) {
    super(db);
  }

  async getNhi(id: NhiId): Promise<Nhi | null> {
    const r = await this.db.selectFrom('nhis').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toNhi(r) : null;
  }

  async getNhiByKey(key: string): Promise<Nhi | null> {
    const r = await this.db
      .selectFrom('nhis')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();
    return r ? toNhi(r) : null;
  }

  async setNhiOwner(id: NhiId, from: string, to: string): Promise<boolean> {
    const r = await this.db
      .updateTable('nhis')
      .set({ owner: to })
      .where('id', '=', id)
      .where('owner', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async insertNhi(n: Nhi): Promise<void> {
    await this.db
      .insertInto('nhis')
      .values({
        id: n.id,
        key: nhiKey(n.id),
        kind: n.kind,
        owner: n.owner,
        description: n.description,
        created_at: n.createdAt,
        created_by: n.createdBy,
      })
      .execute();
  }

  async getRequest(id: RequestId): Promise<RequestRecord | null> {
    const r = await this.db
      .selectFrom('requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toRequest(r) : null;
  }

  async listRequests(filter: RequestListFilter): Promise<RequestRecord[]> {
    let q = this.db.selectFrom('requests').selectAll();
    if (filter.state) q = q.where('state', '=', filter.state);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).execute();
    return rows.map(toRequest);
  }

  async insertRequest(r: RequestRecord): Promise<void> {
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

  async transitionRequest(
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

  async listDecisions(requestId: RequestId): Promise<Decision[]> {
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

  async getWarrant(id: WarrantId): Promise<WarrantRecord | null> {
    const w = await hotQueries.getWarrant(this.db, { id }).executeTakeFirst();
    return w ? toWarrant(w) : null;
  }

  async getWarrantByRequest(requestId: RequestId): Promise<WarrantRecord | null> {
    const w = await this.db
      .selectFrom('warrants')
      .selectAll()
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return w ? toWarrant(w) : null;
  }

  async insertWarrant(w: WarrantRecord): Promise<void> {
    await this.db
      .insertInto('warrants')
      .values({
        id: w.id,
        request_id: w.requestId,
        kid: w.kid,
        token: w.token,
        claims: JSON.stringify(w.claims),
        uses: w.uses,
        max_uses: w.maxUses,
        state: w.state,
        issued_at: w.issuedAt,
        not_before: w.notBefore,
        not_after: w.notAfter,
        revoked_at: w.revokedAt,
        revoked_by: w.revokedBy,
        revoke_reason: w.revokeReason,
      })
      .execute();
  }

  async consumeWarrantUse(id: WarrantId, signedMaxUses: number): Promise<number | null> {
    const row = await hotQueries
      .consumeWarrantUse(this.db, { id, signedMaxUses })
      .executeTakeFirst();
    return row ? Number(row.uses) : null;
  }

  async revokeWarrant(id: WarrantId, by: string, reason: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('warrants')
      .set({ state: 'revoked', revoked_at: at, revoked_by: by, revoke_reason: reason })
      .where('id', '=', id)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async insertRedemption(r: RedemptionRow): Promise<void> {
    await hotQueries.insertRedemption(this.db, redemptionValues(r)).execute();
  }

  async listRedemptions(warrantId: WarrantId): Promise<RedemptionRow[]> {
    const rows = await this.db
      .selectFrom('redemptions')
      .selectAll()
      .where('warrant_id', '=', warrantId)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      warrantId: r.warrant_id as WarrantId | null,
      outcome: r.outcome as 'allow' | 'deny',
      code: r.code,
      useNumber: r.use_number === null ? null : Number(r.use_number),
      executor: r.executor,
      action: JSON.parse(r.action) as unknown,
      at: r.at,
    }));
  }

  async appendEvent(e: EncodedEvent): Promise<number> {
    const row = await hotQueries.appendEvent(this.db, eventValues(e)).executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async listKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('created_at')
      .execute();
    return rows.map((k) => ({
      kid: k.kid,
      publicJwk: k.public_jwk,
      sealedPrivate: k.sealed_private,
      state: k.state as KeyState,
      createdAt: k.created_at,
      revokedAt: k.revoked_at,
    }));
  }

  async insertKey(k: SigningKeyRecord): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values({
        kid: k.kid,
        public_jwk: k.publicJwk,
        sealed_private: k.sealedPrivate,
        state: k.state,
        created_at: k.createdAt,
        revoked_at: k.revokedAt,
      })
      .execute();
  }

  /** No-op here: SQLite's BEGIN IMMEDIATE already serialises writers. See `PostgresRepo`. */
  async lockLog(): Promise<void> {}

  /** No-op here: SQLite's BEGIN IMMEDIATE already serialises writers. See `PostgresRepo`. */
  async lockKeyRing(): Promise<void> {}

  /** No-op here: SQLite's BEGIN IMMEDIATE already serialises writers. See `PostgresRepo`. */
  async lockRequest(_id: RequestId): Promise<void> {}

  async setKeyState(kid: string, state: KeyState, at: string): Promise<void> {
    await this.db
      .updateTable('signing_keys')
      .set({ state, ...(state === 'revoked' ? { revoked_at: at } : {}) })
      .where('kid', '=', kid)
      .execute();
  }
}
