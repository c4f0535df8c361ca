import type { Kysely, Selectable } from 'kysely';
import type { RequestId, WarrantId } from '../../core/ids.js';
import type { RedemptionRow, WarrantWriter } from '../../service/ports/warrants.js';
import type { WarrantClaims, WarrantRecord, WarrantState } from '../../warrant/warrant.js';
import type { Database, RedemptionsTable, WarrantsTable } from '../schema.js';
import type { DialectSql } from './dialect.js';
import { rowWhere } from './rows.js';

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

/** A redemption as its columns hold it (`action` as JSON text). */
export const redemptionColumns = (r: RedemptionRow) => ({
  id: r.id,
  warrant_id: r.warrantId,
  outcome: r.outcome,
  code: r.code,
  use_number: r.useNumber,
  executor: r.executor,
  action: JSON.stringify(r.action),
  at: r.at,
  event_id: r.eventId,
  idempotency_key: r.idempotencyKey ?? null,
});

const toRedemption = (r: Selectable<RedemptionsTable>): RedemptionRow => ({
  id: r.id,
  warrantId: r.warrant_id as WarrantId | null,
  outcome: r.outcome as 'allow' | 'deny',
  code: r.code,
  useNumber: r.use_number === null ? null : Number(r.use_number),
  executor: r.executor,
  action: JSON.parse(r.action) as unknown,
  at: r.at,
  eventId: r.event_id === null ? 0 : Number(r.event_id),
  idempotencyKey: r.idempotency_key,
});

/** Warrants and their redemptions, over any Kysely executor (see `sqlite/warrants.ts`). */
export class KyselyWarrants implements WarrantWriter {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sql: DialectSql,
  ) {}

  async getLocked(id: WarrantId): Promise<WarrantRecord | null> {
    if (!this.sql.rowLocks) return this.get(id);
    const w = await this.db
      .selectFrom('warrants')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    return w ? toWarrant(w) : null;
  }

  async get(id: WarrantId): Promise<WarrantRecord | null> {
    const w = await rowWhere(this.db, 'warrants', 'id', id);
    return w ? toWarrant(w) : null;
  }

  async getByRequest(requestId: string): Promise<WarrantRecord | null> {
    const w = await rowWhere(this.db, 'warrants', 'request_id', requestId);
    return w ? toWarrant(w) : null;
  }

  async redemptions(warrantId: WarrantId): Promise<RedemptionRow[]> {
    const rows = await this.db
      .selectFrom('redemptions')
      .selectAll()
      .where('warrant_id', '=', warrantId)
      .orderBy('seq')
      .execute();
    return rows.map(toRedemption);
  }

  async allowedByKey(executor: string, key: string): Promise<RedemptionRow | null> {
    const r = await this.db
      .selectFrom('redemptions')
      .selectAll()
      .where('executor', '=', executor)
      .where('idempotency_key', '=', key)
      .where('outcome', '=', 'allow')
      .executeTakeFirst();
    return r ? toRedemption(r) : null;
  }

  async allowedById(id: string): Promise<RedemptionRow | null> {
    const r = await this.db
      .selectFrom('redemptions')
      .selectAll()
      .where('id', '=', id)
      .where('outcome', '=', 'allow')
      .executeTakeFirst();
    return r ? toRedemption(r) : null;
  }

  async insert(w: WarrantRecord): Promise<void> {
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

  async setToken(id: WarrantId, token: string): Promise<void> {
    await this.db
      .updateTable('warrants')
      .set({ token })
      .where('id', '=', id)
      .where('token', '=', '')
      .execute();
  }

  /** See `WarrantWriter.consumeUse`: the single-use guarantee, in one statement. */
  async consumeUse(id: WarrantId, signedMaxUses: number): Promise<number | null> {
    const row = await this.db
      .updateTable('warrants')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('id', '=', id)
      .where('state', '=', 'active')
      .whereRef('uses', '<', 'max_uses')
      .where('uses', '<', signedMaxUses)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('signing_keys as k')
              .select('k.kid')
              .whereRef('k.kid', '=', 'warrants.kid')
              .where('k.state', '=', 'revoked'),
          ),
        ),
      )
      .returning('uses')
      .executeTakeFirst();
    return row ? Number(row.uses) : null;
  }

  async revoke(id: WarrantId, by: string, reason: string, at: string): Promise<boolean> {
    const res = await this.db
      .updateTable('warrants')
      .set({ state: 'revoked', revoked_at: at, revoked_by: by, revoke_reason: reason })
      .where('id', '=', id)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async recordRedemption(r: RedemptionRow): Promise<void> {
    await this.db.insertInto('redemptions').values(redemptionColumns(r)).execute();
  }
}
