/**
 * The statements every redemption runs on SQLite, written once as SQL and prepared
 * through the connection's one statement cache: Kysely compiling each query anew was
 * about a tenth of the redemption profile. The log integrator's subtree hashes go the same
 * way (its transaction holds the serving thread). PostgreSQL runs the same queries through
 * the Kysely repositories (`kysely/warrants.ts`, `kysely/log.ts`), whose SQL these match.
 */
import type { Selectable } from 'kysely';
import type { WarrantId } from '../../core/ids.js';
import type { EncodedEvent } from '../../log/event.js';
import type { NewNode } from '../../log/tree.js';
import type { RedemptionRow, WarrantWriter } from '../../service/ports/warrants.js';
import type { WarrantRecord } from '../../warrant/warrant.js';
import { eventColumns } from '../kysely/log.js';
import { redemptionColumns, toWarrant, type KyselyWarrants } from '../kysely/warrants.js';
import type { WarrantsTable } from '../schema.js';
import type { StatementCache } from './statements.js';

const SQL = {
  getWarrant: 'select * from "warrants" where "id" = ?',
  // The single-use guarantee, as `KyselyWarrants.consumeUse` states it.
  consumeUse:
    'update "warrants" set "uses" = "uses" + 1 where "id" = ? and "state" = \'active\' ' +
    'and "uses" < "max_uses" and "uses" < ? and not exists (select "k"."kid" from ' +
    '"signing_keys" as "k" where "k"."kid" = "warrants"."kid" and "k"."state" = \'revoked\') ' +
    'returning "uses"',
  insertRedemption:
    'insert into "redemptions" ("id", "warrant_id", "outcome", "code", "use_number", ' +
    '"executor", "action", "at", "event_id", "idempotency_key") values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  insertEvent:
    'insert into "events" ("type", "at", "actor", "request_id", "warrant_id", "nhi_id", ' +
    '"leaf", "leaf_hash", "leaf_index") values (?, ?, ?, ?, ?, ?, ?, ?, null) returning "id"',
  insertNode: 'insert into "log_nodes" ("level", "idx", "hash") values (?, ?, ?)',
} as const;

/** The warrants repository on SQLite: the redemption's statements prepared once. */
export class SqliteWarrants implements WarrantWriter {
  constructor(
    private readonly statements: StatementCache,
    private readonly rest: KyselyWarrants,
  ) {}

  /** SQLite's writers are serial already: nothing to lock. */
  getLocked(id: WarrantId): Promise<WarrantRecord | null> {
    return this.get(id);
  }

  async get(id: WarrantId): Promise<WarrantRecord | null> {
    const row = this.statements.get(SQL.getWarrant).get(id) as
      Selectable<WarrantsTable> | undefined;
    return row ? toWarrant(row) : null;
  }

  /** See `WarrantWriter.consumeUse`: the single-use guarantee, in one statement. */
  async consumeUse(id: WarrantId, signedMaxUses: number): Promise<number | null> {
    const row = this.statements.get(SQL.consumeUse).get(id, signedMaxUses) as
      { uses: number } | undefined;
    return row ? Number(row.uses) : null;
  }

  async recordRedemption(r: RedemptionRow): Promise<void> {
    const c = redemptionColumns(r);
    this.statements
      .get(SQL.insertRedemption)
      .run(
        c.id,
        c.warrant_id,
        c.outcome,
        c.code,
        c.use_number,
        c.executor,
        c.action,
        c.at,
        c.event_id,
        c.idempotency_key,
      );
  }

  getByRequest(requestId: string): Promise<WarrantRecord | null> {
    return this.rest.getByRequest(requestId);
  }

  redemptions(warrantId: WarrantId): Promise<RedemptionRow[]> {
    return this.rest.redemptions(warrantId);
  }

  allowedByKey(executor: string, key: string): Promise<RedemptionRow | null> {
    return this.rest.allowedByKey(executor, key);
  }

  allowedById(id: string): Promise<RedemptionRow | null> {
    return this.rest.allowedById(id);
  }

  insert(record: WarrantRecord): Promise<void> {
    return this.rest.insert(record);
  }

  setToken(id: WarrantId, token: string): Promise<void> {
    return this.rest.setToken(id, token);
  }

  revoke(id: WarrantId, by: string, reason: string, at: string): Promise<boolean> {
    return this.rest.revoke(id, by, reason, at);
  }
}

/** Appends an event through the prepared statement; returns its id. */
export function insertEvent(statements: StatementCache): (e: EncodedEvent) => number {
  return (e) => {
    const c = eventColumns(e);
    const row = statements
      .get(SQL.insertEvent)
      .get(c.type, c.at, c.actor, c.request_id, c.warrant_id, c.nhi_id, c.leaf, c.leaf_hash) as {
      id: number;
    };
    return Number(row.id);
  };
}

/** Stores a subtree hash through the prepared statement, as `KyselyLog.putNodes` would. */
export function insertNode(statements: StatementCache): (n: NewNode) => void {
  return (n) => {
    statements.get(SQL.insertNode).run(n.id.level, n.id.index, n.hash.toString('hex'));
  };
}
