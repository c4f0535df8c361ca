import type { Kysely } from 'kysely';
import type { HashRow } from '../../log/node-audit.js';
import type { StateRows } from '../../replay/compare.js';
import type { RecordPage } from '../../replay/compare-records.js';
import type { RecordTable } from '../../replay/records.js';
import type { AuditReader } from '../../service/ports/audit.js';
import type { Database } from '../schema.js';
import { recordPage } from './audit-records.js';

/** The rows the state audit compares with the log. */
export class KyselyAudit implements AuditReader {
  constructor(private readonly db: Kysely<Database>) {}

  async leafHashes(from: number, limit: number): Promise<HashRow[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['leaf_index', 'leaf_hash'])
      .where('leaf_index', '>=', from)
      .orderBy('leaf_index')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ index: Number(r.leaf_index), hash: r.leaf_hash }));
  }

  async nodes(level: number, from: number, limit: number): Promise<HashRow[]> {
    const rows = await this.db
      .selectFrom('log_nodes')
      .select(['idx', 'hash'])
      .where('level', '=', level)
      .where('idx', '>=', from)
      .orderBy('idx')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ index: Number(r.idx), hash: r.hash }));
  }

  async levels(): Promise<{ level: number; count: number }[]> {
    const rows = await this.db
      .selectFrom('log_nodes')
      .select(['level', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('level')
      .execute();
    return rows.map((r) => ({ level: Number(r.level), count: Number(r.n) }));
  }

  recordPage(table: RecordTable, after: string | null, limit: number): Promise<RecordPage> {
    return recordPage(this.db, table, after, limit);
  }

  async stateRows(): Promise<StateRows> {
    const [warrants, requests, findings, keys] = await Promise.all([
      this.db
        .selectFrom('warrants')
        .select(['id', 'request_id', 'uses', 'max_uses', 'state', 'claims'])
        .execute(),
      this.db.selectFrom('requests').select(['id', 'state']).execute(),
      this.db.selectFrom('findings').select(['id', 'state']).execute(),
      this.db.selectFrom('signing_keys').select(['kid as id', 'state']).execute(),
    ]);
    return {
      warrants: warrants.map((w) => ({
        id: w.id,
        requestId: w.request_id,
        uses: Number(w.uses),
        maxUses: Number(w.max_uses),
        state: w.state,
        claims: w.claims,
      })),
      requests,
      findings,
      keys,
    };
  }
}
