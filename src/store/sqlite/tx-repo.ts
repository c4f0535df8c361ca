import type SqliteDatabase from 'better-sqlite3';
import type { Kysely, Selectable } from 'kysely';
import type { WarrantId } from '../../core/ids.js';
import type { EncodedEvent } from '../../log/event.js';
import type { WarrantRecord } from '../../warrant/warrant.js';
import {
  eventValues,
  hotQueries,
  redemptionValues,
  type EventValues,
  type RedemptionValues,
} from '../hot-queries.js';
import { KyselyRepo, toWarrant } from '../kysely-repo.js';
import type { Database, WarrantsTable } from '../schema.js';
import type { RedemptionRow } from '../store.js';
import { PreparedQuery } from './prepared.js';

/** The redemption statements, compiled and prepared once per connection. */
export class HotStatements {
  readonly getWarrant: PreparedQuery<{ id: string }, Selectable<WarrantsTable>>;
  readonly consumeWarrantUse: PreparedQuery<
    { id: string; signedMaxUses: number },
    { uses: number }
  >;
  readonly insertRedemption: PreparedQuery<RedemptionValues, unknown>;
  readonly appendEvent: PreparedQuery<EventValues, { id: number }>;

  constructor(raw: SqliteDatabase.Database, db: Kysely<Database>) {
    this.getWarrant = new PreparedQuery(raw, db, hotQueries.getWarrant, ['id']);
    this.consumeWarrantUse = new PreparedQuery(raw, db, hotQueries.consumeWarrantUse, [
      'id',
      'signedMaxUses',
    ]);
    this.insertRedemption = new PreparedQuery(raw, db, hotQueries.insertRedemption, [
      'id',
      'warrant_id',
      'outcome',
      'code',
      'use_number',
      'executor',
      'action',
      'at',
    ]);
    this.appendEvent = new PreparedQuery(raw, db, hotQueries.appendEvent, [
      'type',
      'at',
      'actor',
      'request_id',
      'warrant_id',
      'nhi_id',
      'leaf',
      'leaf_hash',
    ]);
  }
}

/**
 * The repo inside a SQLite group-commit batch: the redemption statements run as
 * prepared statements on the connection the batch holds; everything else as usual.
 */
export class SqliteTxRepo extends KyselyRepo {
  constructor(
    db: Kysely<Database>,
    private readonly hot: HotStatements,
  ) {
    super(db);
  }

  override async getWarrant(id: WarrantId): Promise<WarrantRecord | null> {
    const w = this.hot.getWarrant.get({ id });
    return w ? toWarrant(w) : null;
  }

  override async consumeWarrantUse(id: WarrantId, signedMaxUses: number): Promise<number | null> {
    const row = this.hot.consumeWarrantUse.get({ id, signedMaxUses });
    return row ? Number(row.uses) : null;
  }

  override async insertRedemption(r: RedemptionRow): Promise<void> {
    this.hot.insertRedemption.run(redemptionValues(r));
  }

  override async appendEvent(e: EncodedEvent): Promise<number> {
    const row = this.hot.appendEvent.get(eventValues(e));
    if (!row) throw new Error('the event insert returned no id');
    return Number(row.id);
  }
}
