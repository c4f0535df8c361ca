import { sql, type Kysely } from 'kysely';
import { batchesOf } from '../../core/batches.js';
import { nodeKey } from '../../log/nodes.js';
import type { NewNode, NodeHashes, NodeId } from '../../log/tree.js';
import type { EncodedEvent } from '../../log/event.js';
import type {
  LogEntry,
  LogWriter,
  PendingEvent,
  QueuedEvent,
  StoredCheckpoint,
} from '../../service/ports/log.js';
import type { Database } from '../schema.js';
import type { DialectSql } from './dialect.js';
import type { NativeStatements } from './ports.js';
import { IDS_PER_STATEMENT } from './evidence.js';
import { rowWhere } from './rows.js';

export const toCheckpoint = (r: {
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
 * The log tables: events queued then integrated, the stored subtree hashes, and the
 * checkpoints (a row whose note is empty waits for its signature, which is made after
 * the integrating transaction commits; readers never see it).
 */
export class KyselyLog implements LogWriter {
  readonly #insertEvent: ((e: EncodedEvent) => number) | undefined;
  readonly #insertNode: ((n: NewNode) => void) | undefined;

  /** `native` lets SQLite write through its prepared statements (`sqlite/hot-path.ts`). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sql: DialectSql,
    native: Pick<NativeStatements, 'insertEvent' | 'insertNode'> = {},
  ) {
    this.#insertEvent = native.insertEvent;
    this.#insertNode = native.insertNode;
  }

  #signed() {
    return this.db.selectFrom('checkpoints').selectAll().where('note', '!=', '');
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    const r = await this.#signed().orderBy('size', 'desc').limit(1).executeTakeFirst();
    return r ? toCheckpoint(r) : null;
  }

  async checkpoint(size: number): Promise<StoredCheckpoint | null> {
    const r = await this.#signed().where('size', '=', size).executeTakeFirst();
    return r ? toCheckpoint(r) : null;
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    return (await this.#signed().orderBy('size').execute()).map(toCheckpoint);
  }

  async checkpointsFrom(from: number, limit: number): Promise<StoredCheckpoint[]> {
    const rows = await this.#signed()
      .where('size', '>=', from)
      .orderBy('size')
      .limit(limit)
      .execute();
    return rows.map(toCheckpoint);
  }

  async nodes(ids: readonly NodeId[]): Promise<NodeHashes> {
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

  async entries(start: number, end: number): Promise<LogEntry[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(ENTRY)
      .where('leaf_index', '>=', start)
      .where('leaf_index', '<', end)
      .orderBy('leaf_index')
      .execute();
    return toEntries(rows);
  }

  async entryPage(from: number, limit: number): Promise<LogEntry[]> {
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
    const rows = await this.db
      .selectFrom('events')
      .select(ENTRY)
      .where(this.sql.leafRequest(), '=', requestId)
      .where('leaf_index', 'is not', null)
      .orderBy('leaf_index')
      .execute();
    return toEntries(rows);
  }

  async entriesForFindings(findingIds: readonly string[]): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for (const ids of batchesOf([...new Set(findingIds)], IDS_PER_STATEMENT)) {
      const rows = await this.db
        .selectFrom('events')
        .select(ENTRY)
        // Literal types, as the partial index declares them (migration 018).
        .where(
          sql.ref('type'),
          'in',
          sql`('finding.raised', 'finding.acknowledged', 'finding.resolved', 'finding.reopened')`,
        )
        .where(this.sql.leafDataId(), 'in', ids)
        .where('leaf_index', 'is not', null)
        .execute();
      out.push(...toEntries(rows));
    }
    return out.sort((a, b) => a.index - b.index);
  }

  async keyRevocationIndices(revoked: readonly string[] = []): Promise<Map<string, number>> {
    const read = (column: 'type' | 'leaf', op: '=' | 'like', value: string) =>
      this.db
        .selectFrom('events')
        .select(['leaf_index', 'leaf'])
        .where(column, op, value)
        .where('leaf_index', 'is not', null)
        .orderBy('leaf_index')
        .execute();
    // The type column only narrows the search; the kid is read from the hashed leaf.
    const found = revocationsIn(await read('type', '=', 'key.revoked'));
    if (revoked.every((kid) => found.has(kid))) return found;
    // A key revoked in its table with no revocation found: the type column is a cache of the
    // hashed leaf, and an edit of it must not hide the position. Read the leaves themselves.
    return revocationsIn(await read('leaf', 'like', '%"type":"key.revoked"%'));
  }

  async eventLeaf(id: number): Promise<string | null> {
    return (await rowWhere(this.db, 'events', 'id', id))?.leaf ?? null;
  }

  async queuedEvents(): Promise<QueuedEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['id', 'leaf'])
      .where('leaf_index', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: Number(r.id), leaf: r.leaf }));
  }

  async queuedCount(): Promise<number> {
    const r = await this.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('leaf_index', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
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

  async append(e: EncodedEvent): Promise<number> {
    if (this.#insertEvent) return this.#insertEvent(e);
    const row = await this.db
      .insertInto('events')
      .values({ ...eventColumns(e), leaf_index: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async appendMany(events: readonly EncodedEvent[]): Promise<number[]> {
    const ids: number[] = [];
    const insertEvent = this.#insertEvent;
    if (insertEvent) {
      // SQLite: one prepared statement per row is as fast as a multi-row one, in-process.
      for (const e of events) ids.push(insertEvent(e));
      return ids;
    }
    for (let i = 0; i < events.length; i += APPEND_ROWS) {
      const rows = await this.db
        .insertInto('events')
        .values(
          events.slice(i, i + APPEND_ROWS).map((e) => ({ ...eventColumns(e), leaf_index: null })),
        )
        .returning('id')
        .execute();
      // The sequence numbers one statement's rows in VALUES order, whatever order RETURNING
      // lists them in: sorted, the ids line up with the events.
      ids.push(...rows.map((r) => Number(r.id)).sort((a, b) => a - b));
    }
    return ids;
  }

  async pending(limit: number): Promise<PendingEvent[]> {
    const rows = await this.db
      .selectFrom('events')
      .select(['id', 'leaf_hash'])
      .where('leaf_index', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: Number(r.id), leafHash: r.leaf_hash }));
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
      await this.db
        .updateTable('events')
        .set((eb) => ({ leaf_index: eb('id', '+', first.index - first.id) }))
        .where('id', '>=', first.id)
        .where('id', '<=', first.id + (j - i - 1))
        .where('leaf_index', 'is', null)
        .execute();
      i = j;
    }
  }

  async putNodes(nodes: readonly NewNode[]): Promise<void> {
    const insertNode = this.#insertNode;
    if (insertNode) {
      // SQLite, in the integrator's transaction on the serving thread: building and compiling
      // the multi-row inserts below was about a third of that transaction's time.
      for (const n of nodes) insertNode(n);
      return;
    }
    // Chunked so that one statement stays under every dialect's parameter limit.
    for (let i = 0; i < nodes.length; i += 300) {
      const values = nodes
        .slice(i, i + 300)
        .map((n) => ({ level: n.id.level, idx: n.id.index, hash: n.hash.toString('hex') }));
      await this.db.insertInto('log_nodes').values(values).execute();
    }
  }

  async latestTree(): Promise<StoredCheckpoint | null> {
    const r = await this.db
      .selectFrom('checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? toCheckpoint(r) : null;
  }

  async unsigned(): Promise<StoredCheckpoint[]> {
    const rows = await this.db
      .selectFrom('checkpoints')
      .selectAll()
      .where('note', '=', '')
      .orderBy('size')
      .execute();
    return rows.map(toCheckpoint);
  }

  async insertCheckpoint(cp: StoredCheckpoint): Promise<void> {
    await this.db.insertInto('checkpoints').values(cp).execute();
  }

  async signCheckpoint(size: number, note: string, kid: string): Promise<void> {
    await this.db
      .updateTable('checkpoints')
      .set({ note, kid })
      .where('size', '=', size)
      .where('note', '=', '')
      .execute();
  }

  lock(): Promise<void> {
    return this.sql.lockLog(this.db);
  }

  tryLock(): Promise<boolean> {
    return this.sql.tryLockLog(this.db);
  }
}

/** Rows per multi-row event insert: 8 columns each, well under PostgreSQL's 65,535 parameters. */
const APPEND_ROWS = 500;

/** An event as its columns hold it: the link columns are conveniences, the leaf is the record. */
export const eventColumns = (e: EncodedEvent) => ({
  type: e.event.type,
  at: e.event.at,
  actor: e.event.actor,
  request_id: e.event.links.request ?? null,
  warrant_id: e.event.links.warrant ?? null,
  nhi_id: e.event.links.nhi ?? null,
  leaf: e.leaf,
  leaf_hash: e.leafHash,
});

/** The first revocation of each kid among `rows`, in log order, as their leaves say. */
function revocationsIn(
  rows: readonly { readonly leaf_index: number | bigint | string | null; readonly leaf: string }[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const event = JSON.parse(r.leaf) as { type?: unknown; data?: { kid?: unknown } };
    const kid = event.data?.kid;
    if (event.type !== 'key.revoked' || typeof kid !== 'string' || out.has(kid)) continue;
    out.set(kid, Number(r.leaf_index));
  }
  return out;
}
