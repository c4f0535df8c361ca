import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { TxPorts } from '../../service/ports/store.js';
import type { Database } from '../schema.js';
import type { WriterGate } from './checkpointer.js';

interface Job {
  readonly fn: (tx: TxPorts) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** What makes a committed batch durable before it is acknowledged (a {@link WalSync}). */
export interface DurabilityBarrier {
  sync(): Promise<void>;
}

type Outcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * Group commit for SQLite. Transactions that arrive while a commit is in progress
 * queue up and run in the next batch: one `BEGIN IMMEDIATE … COMMIT` for the whole
 * batch, each job inside its own SAVEPOINT.
 *
 * A job that throws is rolled back to its savepoint alone, so each job keeps its
 * all-or-nothing guarantee (a state change and its event commit together or not at
 * all). No job is acknowledged before its batch is on disk: with a barrier (WalSync)
 * that is after the WAL's fdatasync (on the thread pool, while the next batch runs);
 * without one, after a COMMIT under `synchronous=FULL`.
 */
export class GroupCommit implements WriterGate {
  readonly #queue: Job[] = [];
  #draining = false;
  /** The batch being run, from its first statement to its COMMIT. */
  #batch: Promise<void> | null = null;
  /** Set while the writer is held: no batch starts before it resolves. */
  #gate: Promise<void> | null = null;
  /** A batch holds the connection (between BEGIN and COMMIT). */
  #committing = false;
  readonly #control: Record<
    'begin' | 'savepoint' | 'release' | 'rollbackTo' | 'commit' | 'rollback',
    SqliteDatabase.Statement
  >;

  /** Batches committed whose fdatasync has not returned yet. */
  readonly #syncing = new Set<Promise<void>>();

  /** `ports` gives the ports over the connection a batch holds. */
  constructor(
    private readonly db: Kysely<Database>,
    raw: SqliteDatabase.Database,
    private readonly wal: DurabilityBarrier | null,
    private readonly ports: (conn: Kysely<Database>) => TxPorts,
    private readonly maxBatch = 256,
  ) {
    this.#control = {
      begin: raw.prepare('begin immediate'),
      savepoint: raw.prepare('savepoint job'),
      release: raw.prepare('release job'),
      rollbackTo: raw.prepare('rollback to job'),
      commit: raw.prepare('commit'),
      rollback: raw.prepare('rollback'),
    };
  }

  /** The one writer connection: busy with a batch or not, and the jobs queued for the next. */
  usage(): { readonly inUse: number; readonly idle: number; readonly waiting: number } {
    const inUse = this.#committing ? 1 : 0;
    return { inUse, idle: 1 - inUse, waiting: this.#queue.length };
  }

  run<T>(fn: (tx: TxPorts) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (;;) {
        // better-sqlite3 is synchronous, so a batch never yields to I/O by itself. Let the
        // event loop read the requests that arrived meanwhile before taking the next batch.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.#queue.length === 0) break;
        // Bounded pipelining: a few batches may wait for their fdatasync at once.
        if (this.#syncing.size >= 4) await Promise.race(this.#syncing);
        while (this.#gate) await this.#gate;
        // Nothing awaits between the gate and the batch, so a hold sees the batch it must wait for.
        this.#batch = this.#commit(this.#queue.splice(0, this.maxBatch));
        try {
          await this.#batch;
        } finally {
          this.#batch = null;
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  hold(): Promise<() => void> {
    let open!: () => void;
    const gate = new Promise<void>((ok) => (open = ok));
    this.#gate = gate;
    const release = (): void => {
      if (this.#gate === gate) this.#gate = null;
      open();
    };
    // A batch that failed has ended all the same: the hold is granted either way.
    const ended = (): (() => void) => release;
    return (this.#batch ?? Promise.resolve()).then(ended, ended);
  }

  /** Waits for every committed batch to be on disk and acknowledged. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#syncing]);
  }

  async #commit(batch: readonly Job[]): Promise<void> {
    const outcomes: Outcome[] = [];
    this.#committing = true;
    try {
      // Holding Kysely's connection keeps every other query off it while the raw
      // statements below run inside the batch's transaction.
      await this.db.connection().execute(async (conn) => {
        const c = this.#control;
        c.begin.run();
        try {
          const repo = this.ports(conn);
          for (const job of batch) {
            c.savepoint.run();
            try {
              const value = await job.fn(repo);
              c.release.run();
              outcomes.push({ ok: true, value });
            } catch (error) {
              c.rollbackTo.run();
              c.release.run();
              outcomes.push({ ok: false, error });
            }
          }
          c.commit.run();
        } catch (e) {
          try {
            c.rollback.run();
          } catch {
            // No transaction left to roll back (SQLite ends it itself on some errors).
          }
          throw e;
        }
      });
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    } finally {
      this.#committing = false;
    }
    const settle = (): void =>
      batch.forEach((job, i) => {
        const o = outcomes[i] as Outcome;
        if (o.ok) job.resolve(o.value);
        else job.reject(o.error);
      });
    if (!this.wal) return settle();
    const synced = this.wal.sync().then(settle, (error: unknown) => {
      for (const job of batch) job.reject(error);
    });
    this.#syncing.add(synced);
    void synced.finally(() => this.#syncing.delete(synced));
  }
}
