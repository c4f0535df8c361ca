import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  sql,
  SqliteDialect,
  type SqliteDatabase as SqliteKyselyDatabase,
} from 'kysely';
import { KyselyRepo } from '../kysely-repo.js';
import { GroupCommit } from './group-commit.js';
import { Checkpointer } from './checkpointer.js';
import { WalSync } from './wal-sync.js';
import { migrations } from '../migrations.js';
import type { Database } from '../schema.js';
import type { Repo, Store } from '../store.js';

export interface SqliteOptions {
  readonly file: string;
  /** Open an existing database without migrating or writing (offline verification). */
  readonly readonly?: boolean;
}

/**
 * The embedded SQLite store in WAL mode: a commit is on disk before it is acknowledged
 * (group commit, then an fdatasync of the WAL). Transactions start with BEGIN IMMEDIATE so that two processes
 * sharing the file serialise their writers instead of failing on lock upgrade.
 */
export async function openSqliteStore(opts: SqliteOptions): Promise<Store> {
  if (opts.readonly) {
    const raw = new SqliteDatabase(opts.file, { readonly: true, fileMustExist: true });
    return new SqliteStore(
      new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(raw) }) }),
      raw,
      null,
      null,
      true,
    );
  }
  if (opts.file !== ':memory:') mkdirSync(dirname(opts.file), { recursive: true });
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
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingStatements(raw) }),
  });
  const migrator = new Migrator({ db, provider: migrations('sqlite') });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
  const checkpointer = wal ? await Checkpointer.start(raw, opts.file) : null;
  return new SqliteStore(db, raw, wal, checkpointer, false);
}

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and the
 * hot paths run the same few SQL texts, so prepared statements are kept by SQL text.
 */
function cachingStatements(raw: SqliteDatabase.Database): SqliteKyselyDatabase {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare: (text: string) => {
      let st = cache.get(text);
      if (!st) {
        st = raw.prepare(text);
        if (cache.size >= 512) cache.clear();
        cache.set(text, st);
      }
      return st;
    },
  };
}

class SqliteStore extends KyselyRepo implements Store {
  readonly dialect = 'sqlite' as const;

  #group: GroupCommit | undefined;

  constructor(
    db: Kysely<Database>,
    private readonly raw: SqliteDatabase.Database,
    private readonly wal: WalSync | null,
    private readonly checkpointer: Checkpointer | null,
    private readonly readonly: boolean,
  ) {
    super(db);
  }

  transaction<T>(fn: (tx: Repo) => Promise<T>): Promise<T> {
    // Prepared on first use: a read-only store (offline verification) never writes.
    this.#group ??= new GroupCommit(this.db, this.raw, this.wal);
    return this.#group.run(fn);
  }

  snapshot<T>(fn: (view: Repo) => Promise<T>): Promise<T> {
    // A read transaction sees one WAL snapshot. The serving store's connection is the
    // group commit's, so there the view is a write transaction, serialised with the rest.
    if (!this.readonly) return this.transaction(fn);
    return this.db.transaction().execute((trx) => fn(new KyselyRepo(trx)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.#group?.flush();
    await this.checkpointer?.stop();
    this.wal?.close();
    await this.db.destroy();
  }
}
