import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, sql, SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely';
import type { PoolUsage, ReadPorts, Store, TxPorts } from '../../service/ports/store.js';
import { kyselyPorts } from '../kysely/ports.js';
import { KyselyWarrants } from '../kysely/warrants.js';
import { migrations } from '../migrations.js';
import type { Database } from '../schema.js';
import { spendInTransaction } from '../spend.js';
import type { SpentUse, UseSpend } from '../../service/ports/spend.js';
import { Checkpointer, type CheckpointOptions, type WriterGate } from './checkpointer.js';
import { sqliteSql } from './dialect.js';
import { GroupCommit } from './group-commit.js';
import { SqliteHistory } from './history.js';
import { insertEvent, insertNode, SqliteWarrants } from './hot-path.js';
import { StatementCache } from './statements.js';
import { WalSync } from './wal-sync.js';

export interface SqliteOptions {
  readonly file: string;
  /** Open an existing database without migrating or writing (offline verification). */
  readonly readonly?: boolean;
  /** The checkpoint thread's rhythm (tests shorten it). */
  readonly checkpoint?: CheckpointOptions;
}

/**
 * SQLite's DDL is transactional, but Kysely's adapter says it is not, so its migrator ran
 * each statement of an upgrade on its own: a start cut off (killed, out of disk) between
 * two statements left a schema no version knows, which the next start could not migrate
 * either. Told the truth, the migrator runs every pending migration in one transaction, as
 * it does on PostgreSQL: an upgrade is applied whole or not at all. Nothing else reads it.
 */
class TransactionalDdlAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalDdlDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlAdapter();
  }
}

const kyselyOver = (statements: StatementCache): Kysely<Database> =>
  new Kysely<Database>({
    dialect: new TransactionalDdlDialect({ database: statements.forKysely() }),
  });

/**
 * Makes the database's folder (0700, where it does not exist yet) and an empty database file
 * (0600) before SQLite opens it. The database holds every warrant's JWS, and SQLite's unix VFS
 * gives the -wal and -shm files the database file's permissions, so under a umask of 022 they
 * would all be world-readable. A folder or file that already exists is left as its owner made it.
 */
function createPrivately(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * The embedded SQLite store in WAL mode: a commit is on disk before it is acknowledged
 * (group commit, then an fdatasync of the WAL). Transactions start with BEGIN IMMEDIATE so that two processes
 * sharing the file serialise their writers instead of failing on lock upgrade.
 */
export async function openSqliteStore(opts: SqliteOptions): Promise<Store> {
  if (opts.readonly) {
    const raw = new SqliteDatabase(opts.file, { readonly: true, fileMustExist: true });
    return new SqliteStore(raw, opts.file, null, null, true);
  }
  if (opts.file !== ':memory:') createPrivately(opts.file);
  const raw = new SqliteDatabase(opts.file);
  raw.pragma('journal_mode = WAL');
  // On a file, commits are made durable by an fdatasync of the WAL off the event loop
  // before they are acknowledged (see WalSync); in memory there is nothing to sync.
  const wal = opts.file === ':memory:' ? null : new WalSync(`${opts.file}-wal`);
  raw.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
  raw.pragma('busy_timeout = 10000');
  // Each job of a group commit runs in a SAVEPOINT, whose page copies serve only a
  // rollback to it: keeping them in memory instead of a temp file does not touch
  // durability (the WAL does) and raised durable appends by half in the log benchmark.
  raw.pragma('temp_store = MEMORY');
  raw.pragma('foreign_keys = ON');
  const store = new SqliteStore(raw, opts.file, wal, null, false);
  const { error } = await new Migrator({
    db: store.db,
    provider: migrations('sqlite'),
  }).migrateToLatest();
  if (error) {
    await store.close();
    throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  }
  if (wal) store.checkpointer = await Checkpointer.start(raw, opts.file, store, opts.checkpoint);
  return store;
}

/**
 * The ports over `conn`, a handle on the connection `statements` prepares on: its raw
 * statements run inside whatever transaction Kysely holds open there.
 */
const readPorts = (conn: Kysely<Database>, statements: StatementCache): TxPorts =>
  kyselyPorts(conn, sqliteSql, { history: new SqliteHistory(statements) });

class SqliteStore implements Store, WriterGate {
  readonly dialect = 'sqlite' as const;
  readonly db: Kysely<Database>;
  readonly read: ReadPorts;
  readonly #statements: StatementCache;
  #group: GroupCommit | undefined;
  #snapshots: { readonly db: Kysely<Database>; readonly statements: StatementCache } | undefined;
  checkpointer: Checkpointer | null;

  constructor(
    private readonly raw: SqliteDatabase.Database,
    private readonly file: string,
    private readonly wal: WalSync | null,
    checkpointer: Checkpointer | null,
    private readonly readonly: boolean,
  ) {
    this.#statements = new StatementCache(raw);
    this.db = kyselyOver(this.#statements);
    // Not `readPorts`: the scan's raw statement would not wait for Kysely's hold on the
    // connection, and could read a batch's uncommitted writes while its jobs await.
    this.read = kyselyPorts(this.db, sqliteSql);
    this.checkpointer = checkpointer;
  }

  /** The ports over the connection a batch holds, with the redemption's statements prepared. */
  #ports(conn: Kysely<Database>): TxPorts {
    return {
      ...kyselyPorts(conn, sqliteSql, {
        insertEvent: insertEvent(this.#statements),
        insertNode: insertNode(this.#statements),
        history: new SqliteHistory(this.#statements),
      }),
      warrants: new SqliteWarrants(this.#statements, new KyselyWarrants(conn, sqliteSql)),
    };
  }

  /** Prepared on first use: a read-only store (offline verification) never writes. */
  #writer(): GroupCommit {
    this.#group ??= new GroupCommit(this.db, this.raw, this.wal, (conn) => this.#ports(conn));
    return this.#group;
  }

  transaction<T>(fn: (tx: TxPorts) => Promise<T>): Promise<T> {
    return this.#writer().run(fn);
  }

  hold(): Promise<() => void> {
    return this.#writer().hold();
  }

  spendUse(spend: UseSpend): Promise<SpentUse | null> {
    return this.transaction((tx) => spendInTransaction(tx, spend));
  }

  /**
   * A read transaction on a connection of its own: in WAL mode it sees one snapshot and
   * never holds the writer up, however long it reads. An in-memory database has no second
   * connection, so there it is a transaction like any other.
   */
  snapshot<T>(fn: (view: ReadPorts) => Promise<T>): Promise<T> {
    if (this.readonly) {
      return this.db.transaction().execute((trx) => fn(readPorts(trx, this.#statements)));
    }
    if (this.file === ':memory:') return this.transaction(fn);
    if (this.#snapshots === undefined) {
      const raw = new SqliteDatabase(this.file, { readonly: true, fileMustExist: true });
      const statements = new StatementCache(raw);
      this.#snapshots = { db: kyselyOver(statements), statements };
    }
    const { db, statements } = this.#snapshots;
    return db.transaction().execute((trx) => fn(readPorts(trx, statements)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /**
   * SQLite has no pool: one writer connection, which a group commit holds per batch, and
   * the transactions queued for the next batch. Reads (and snapshots, on a connection of
   * their own) are synchronous and never wait, so they are not counted.
   */
  poolUsage(): PoolUsage {
    return this.#group?.usage() ?? { inUse: 0, idle: 1, waiting: 0 };
  }

  async close(): Promise<void> {
    await this.#group?.flush();
    await this.checkpointer?.stop();
    this.wal?.close();
    await this.#snapshots?.db.destroy();
    await this.db.destroy();
  }
}
