import { sql, type Kysely } from 'kysely';
import { KyselyRepo } from '../kysely-repo.js';
import type { Database } from '../schema.js';
import type { Repo } from '../store.js';

interface Job {
  readonly fn: (tx: Repo) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/**
 * Group commit for SQLite. Transactions that arrive while a commit is in progress
 * queue up and run in the next batch: one `BEGIN IMMEDIATE … COMMIT` (one fsync under
 * `synchronous=FULL`) for the whole batch, each job inside its own SAVEPOINT.
 *
 * A job that throws is rolled back to its savepoint alone, so each job keeps its
 * all-or-nothing guarantee (a state change and its event commit together or not at
 * all). No job is acknowledged before the batch's COMMIT returns, so durability is
 * the same as one fsync per transaction.
 */
export class GroupCommit {
  readonly #queue: Job[] = [];
  #draining = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxBatch = 256,
  ) {}

  run<T>(fn: (tx: Repo) => Promise<T>): Promise<T> {
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
        await this.#commit(this.#queue.splice(0, this.maxBatch));
      }
    } finally {
      this.#draining = false;
    }
  }

  async #commit(batch: readonly Job[]): Promise<void> {
    const outcomes: Outcome[] = [];
    try {
      await this.db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const repo = new KyselyRepo(conn);
          for (const job of batch) {
            await sql`savepoint job`.execute(conn);
            try {
              const value = await job.fn(repo);
              await sql`release job`.execute(conn);
              outcomes.push({ ok: true, value });
            } catch (error) {
              await sql`rollback to job`.execute(conn);
              await sql`release job`.execute(conn);
              outcomes.push({ ok: false, error });
            }
          }
          await sql`commit`.execute(conn);
        } catch (e) {
          await sql`rollback`.execute(conn).catch(() => undefined);
          throw e;
        }
      });
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const o = outcomes[i] as Outcome;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}
