import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrations } from '../migrations.js';
import type { Database } from '../schema.js';
import type { PoolUsage, ReadPorts, Store, TxPorts } from '../../service/ports/store.js';
import { kyselyPorts } from '../kysely/ports.js';
import { postgresSql } from './dialect.js';
import { backoffMs, DEFAULT_RETRY, isConnectionLoss, mayRetry, type RetryPolicy } from './retry.js';
import { spendUsesStatement } from './spend-batch.js';
import { SpendQueue, type SpendOutcome } from './spend-queue.js';
import type { SpentUse, UseSpend } from '../../service/ports/spend.js';

export interface PostgresOptions {
  /** A `postgres://` or `postgresql://` connection URL (libpq parameters allowed). */
  readonly url: string;
  /** Most connections this node holds. Default 10. */
  readonly poolMax?: number;
  /** Skip migrations at start (a `countersign migrate` step runs them instead). */
  readonly migrate?: boolean;
  /** @internal tests shorten the backoff. */
  readonly retry?: RetryPolicy;
  /** @internal tests see each batch of spends sent, and whether it was written. */
  readonly observeSpendBatch?: SpendBatchObserver;
}

/** @internal */
export type SpendBatchObserver = (size: number, outcome: 'written' | 'rolled back') => void;

/** int8 text → number, refusing values a JS number cannot hold exactly. */
function safeInteger(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer ${text} exceeds 2^53 - 1`);
  return n;
}

/**
 * Type parsers for this pool only (never pg's global registry, which other code in
 * the process may rely on): `bigint`/`bigserial` ids and `count(*)` come back as
 * numbers, as the repos expect and as SQLite returns them.
 */
function numericTypes(): pg.CustomTypesConfig {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, safeInteger);
  types.setTypeParser(pg.types.builtins.NUMERIC, Number);
  return types;
}

/**
 * The PostgreSQL store, for several countersign nodes sharing one database.
 *
 * Migrations run at open under Kysely's migrator, which holds a PostgreSQL advisory
 * lock for the whole run, so nodes starting together migrate once. Transactions run at
 * READ COMMITTED; use cases that read before they write take a lock first
 * (`lockLog`, `lockKeyRing`, `lockRequest`), and a warrant use is spent by a
 * conditional UPDATE, which PostgreSQL re-checks against the latest row version.
 */
export async function openPostgresStore(opts: PostgresOptions): Promise<Store> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolMax ?? 10,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
    // A node that stalls inside a transaction must not hold the log lock for ever: the
    // server ends its session, which rolls the transaction back and frees its locks.
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'countersign',
    types: numericTypes(),
  });
  // A client whose server went away emits 'error'; with no listener the process would
  // crash. Idle clients report through the pool, checked-out ones on themselves (their
  // query fails too, and is retried or surfaced). The pool then drops the broken client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (opts.migrate !== false) await migrate(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return new PostgresStore(db, pool, opts.retry ?? DEFAULT_RETRY, opts.observeSpendBatch);
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrations('postgres') });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error('migration failed', { cause: error });
}

/** Most redemptions in one statement: as many as the bench's clients have in flight. */
const SPEND_BATCH = 64;

class PostgresStore implements Store {
  readonly dialect = 'postgres' as const;
  readonly read: ReadPorts;
  readonly #spends: SpendQueue;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly pool: pg.Pool,
    private readonly retry: RetryPolicy,
    private readonly observe?: SpendBatchObserver,
  ) {
    this.read = kyselyPorts(db, postgresSql);
    this.#spends = new SpendQueue((batch) => this.#spendMany(batch), SPEND_BATCH);
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction, rerunning the whole function after a
   * serialization failure, a deadlock, a lost unique-key race, or a connection lost
   * before COMMIT (see `retryVerdict`). `fn` must therefore have no effects outside
   * `tx`: no network calls, no in-memory state it cannot redo. A connection lost
   * during COMMIT is surfaced, never retried, because the commit may have happened.
   */
  async transaction<T>(fn: (tx: TxPorts) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let committing = false;
      try {
        return await this.db
          .transaction()
          .setIsolationLevel('read committed')
          .execute(async (trx) => {
            const value = await fn(kyselyPorts(trx, postgresSql));
            committing = true;
            return value;
          });
      } catch (error) {
        if (!mayRetry(this.retry, error, committing, attempt)) throw error;
        await sleep(backoffMs(this.retry, attempt));
      }
    }
  }

  /** See `SpendQueue`: concurrent spends go to PostgreSQL together (decision 0027). */
  spendUse(spend: UseSpend): Promise<SpentUse | null> {
    return this.#spends.spend(spend);
  }

  /**
   * One batch in one statement. Only an error PostgreSQL itself answered (other than a
   * session ending) says the statement rolled back; then each spend runs again alone, and
   * each gets its own outcome, so one spend's error never becomes another's. Any other
   * failure after the statement was sent (a lost connection, an unreadable answer) is
   * surfaced to every spend of the batch: the statement is its own commit, so whether it
   * happened is unknown, and running it again could spend a second use.
   */
  async #spendMany(spends: readonly UseSpend[]): Promise<readonly SpendOutcome[]> {
    if (spends.length === 1) return this.#alone(spends);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch {
      return this.#alone(spends); // nothing was sent
    }
    let broken: Error | undefined;
    try {
      const spent = await spendUsesStatement(client, spends);
      this.observe?.(spends.length, 'written');
      return spent.map((s) => ({ spent: s }));
    } catch (error) {
      if (!(error instanceof pg.DatabaseError) || isConnectionLoss(error)) {
        broken = error as Error;
        throw error;
      }
    } finally {
      // A connection in doubt goes back destroyed, never to the next caller.
      client.release(broken);
    }
    this.observe?.(spends.length, 'rolled back');
    return this.#alone(spends);
  }

  /** Each spend as a batch of its own, each with its own outcome. */
  #alone(spends: readonly UseSpend[]): Promise<SpendOutcome[]> {
    return Promise.all(
      spends.map((s) =>
        this.#spendOne(s).then(
          (spent) => ({ spent }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
  }

  /**
   * One spend: the batch statement with one row, in its own implicit transaction.
   * Failing to get a connection is retried like a transaction's; once the statement is
   * sent it is the commit, so only failures that say it rolled back are retried and a
   * lost connection is surfaced.
   */
  async #spendOne(spend: UseSpend): Promise<SpentUse | null> {
    for (let attempt = 1; ; attempt++) {
      let sent = false;
      try {
        const client = await this.pool.connect();
        sent = true;
        let lost: Error | undefined;
        try {
          return (await spendUsesStatement(client, [spend]))[0] ?? null;
        } catch (error) {
          if (isConnectionLoss(error)) lost = error as Error;
          throw error;
        } finally {
          // A broken connection goes back destroyed, never to the next caller.
          client.release(lost);
        }
      } catch (error) {
        if (!mayRetry(this.retry, error, sent, attempt)) throw error;
        await sleep(backoffMs(this.retry, attempt));
      }
    }
  }

  snapshot<T>(fn: (view: ReadPorts) => Promise<T>): Promise<T> {
    return this.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((trx) => fn(kyselyPorts(trx, postgresSql)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  poolUsage(): PoolUsage {
    const { totalCount, idleCount, waitingCount } = this.pool;
    return { inUse: totalCount - idleCount, idle: idleCount, waiting: waitingCount };
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
