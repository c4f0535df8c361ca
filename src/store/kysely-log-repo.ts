import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { StateRows } from '../replay/compare.js';
import type { Dialect } from './migrations.js';
import { type NewNode, type NodeHashes, type NodeId } from '../log/tree.js';
import { nodeKey } from '../log/nodes.js';
import type { LogEntry, LogRepo, PendingEvent, StoredCheckpoint } from './log-repo.js';
import { KyselyReconcileRepo } from './kysely-reconcile-repo.js';
import type { Database } from './schema.js';

const toCheckpoint = (r: {
  size: number | string;
  root: string;
  note: string;
  kid: string;
  at: string;
}): StoredCheckpoint => ({
  size: Number(r.size),
  root: r.root,
  note: r.note,
  kid: r.kid,
  at: r.at,
});

const ENTRY = ['leaf_index as index', 'leaf', 'leaf_hash as leafHash'] as const;

/**
 * Rows selected as {@link ENTRY} are entries already when the driver returns the index
 * as a number (SQLite); a log verify reads a million of them, so they are not copied.
 */
function toEntries(
  rows: Array<{ index: number | string | null; leaf: string; leafHash: string }>,
): LogEntry[] {
  return rows.every((r) => typeof r.index === 'number')
    ? (rows as LogEntry[])
    : rows.map((r) => ({ index: Number(r.index), leaf: r.leaf, leafHash: r.leafHash }));
}

/**
 * The request a leaf links to, read from the leaf text itself. The same expression is
 * indexed by migration 006, so it must stay byte for byte what the index declares.
 */
export function leafRequest(dialect: Dialect): RawBuilder<string | null> {
  return dialect === 'postgres'
    ? sql<string | null>`((leaf::jsonb -> 'links') ->> 'request')`
    : sql<string | null>`json_extract(leaf, '$.links.request')`;
}

/** The log tables over any Kysely executor. */
export class KyselyLogRepo extends KyselyReconcileRepo implements LogRepo {
  constructor(db: Kysely<Database>) {
    super(db);
  }

  async pendingEvents(limit: number): Promise<PendingEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['id', 'leaf_hash'])
      .where('leaf_index', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), leafHash: r.leaf_hash }));
  }

  async oldestQueuedAt(): Promise<string | null> {
    // The queue is served in id order (events_pending), so its head is the oldest.
    const r = await this.db
      .selectFrom('events')
      .select('at')
      .where('leaf_index', 'is', null)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return r?.at ?? null;
  }

  async countPendingEvents(): Promise<number> {
    const r = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('leaf_index', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async assignLeafIndices(rows: ReadonlyArray<{ id: number; index: number }>): Promise<void> {
    // Runs of consecutive ids and indices are assigned with one statement each.
    let i = 0;
    while (i < rows.length) {
      const first = rows[i] as { id: number; index: number };
      let j = i + 1;
      while (
        j < rows.length &&
        rows[j]?.id === first.id + (j - i) &&
        rows[j]?.index === first.index + (j - i)
      )
        j++;
      const offset = first.index - first.id;
      await this.db
        .updateTable('events')
        .set((eb) => ({ leaf_index: eb('id', '+', offset) }))
        .where('id', '>=', first.id)
        .where('id', '<=', first.id + (j - i - 1))
        .where('leaf_index', 'is', null)
        .execute();
      i = j;
    }
  }

  async getNodes(ids: readonly NodeId[]): Promise<NodeHashes> {
    const out = new Map<string, Uint8Array>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .selectFrom('log_nodes')
      .select(['level', 'idx', 'hash'])
      .where((eb) =>
        eb.or(ids.map((id) => eb.and([eb('level', '=', id.level), eb('idx', '=', id.index)]))),
      )
      .execute();
    for (const r of rows) {
      out.set(
        nodeKey({ level: Number(r.level), index: Number(r.idx) }),
        Buffer.from(r.hash, 'hex'),
      );
    }
    return out;
  }

  async putNodes(nodes: readonly NewNode[]): Promise<void> {
    // Chunked so that one statement stays under every dialect's parameter limit.
    for (let i = 0; i < nodes.length; i += 300) {
      await this.db
        .insertInto('log_nodes')
        .values(
          nodes
            .slice(i, i + 300)
            .map((n) => ({ level: n.id.level, idx: n.id.index, hash: n.hash.toString('hex') })),
        )
        .execute();
    }
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    const r = await this.db
      .selectFrom('checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toCheckpoint(r) : null;
  }

  async getCheckpoint(size: number): Promise<StoredCheckpoint | null> {
    const r = await this.db
      .selectFrom('checkpoints')
      .selectAll()
      .where('size', '=', size)
      .executeTakeFirst();
    return r ? toCheckpoint(r) : null;
  }

  async listCheckpoints(): Promise<StoredCheckpoint[]> {
    const rows = await this.db.selectFrom('checkpoints').selectAll().orderBy('size').execute();
    return rows.map(toCheckpoint);
  }

  async insertCheckpoint(cp: StoredCheckpoint): Promise<void> {
    await this.db.insertInto('checkpoints').values(cp).execute();
  }

  async getEntries(start: number, end: number): Promise<LogEntry[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(ENTRY)
      .where('leaf_index', '>=', start)
      .where('leaf_index', '<', end)
      .orderBy('leaf_index')
      .execute();
    return toEntries(rows);
  }

  async getEntryPage(from: number, limit: number): Promise<LogEntry[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(ENTRY)
      .where('leaf_index', '>=', from)
      .orderBy('leaf_index')
      .limit(limit)
      .execute();
    return toEntries(rows);
  }

  async entriesForRequest(requestId: string): Promise<LogEntry[]> {
    // Migration 006 indexes this expression of the leaf (events_leaf_request).
    const rows = await this.db
      .selectFrom('events')
      .select(ENTRY)
      .where(this.leafRequest(), '=', requestId)
      .where('leaf_index', 'is not', null)
      .orderBy('leaf_index')
      .execute();
    return toEntries(rows);
  }

  async checkpointsFrom(from: number, limit: number): Promise<StoredCheckpoint[]> {
    const rows = await this.db
      .selectFrom('checkpoints')
      .selectAll()
      .where('size', '>=', from)
      .orderBy('size')
      .limit(limit)
      .execute();
    return rows.map(toCheckpoint);
  }

  async keyRevocationIndices(): Promise<Map<string, number>> {
    // The type column only narrows the search; the kid is read from the hashed leaf.
    const rows = await this.db
      .selectFrom('events')
      .select(['leaf_index', 'leaf'])
      .where('type', '=', 'key.revoked')
      .where('leaf_index', 'is not', null)
      .orderBy('leaf_index')
      .execute();
    const out = new Map<string, number>();
    for (const r of rows) {
      const kid = (JSON.parse(r.leaf) as { data?: { kid?: unknown } }).data?.kid;
      if (typeof kid === 'string' && !out.has(kid)) out.set(kid, Number(r.leaf_index));
    }
    return out;
  }

  /** The request a leaf links to, read from the leaf; PostgreSQL overrides it. */
  protected leafRequest(): RawBuilder<string | null> {
    return leafRequest('sqlite');
  }

  async queuedLeaves(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('events')
      .select('leaf')
      .where('leaf_index', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map((r) => r.leaf);
  }

  async stateRows(): Promise<StateRows> {
    const [warrants, requests, findings] = await Promise.all([
      this.db
        .selectFrom('warrants')
        .select(['id', 'request_id', 'uses', 'max_uses', 'state', 'claims'])
        .execute(),
      this.db.selectFrom('requests').select(['id', 'state']).execute(),
      this.db.selectFrom('findings').select(['id', 'state']).execute(),
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
    };
  }
}
