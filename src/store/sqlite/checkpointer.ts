import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

const WORKER = new URL('./checkpoint-worker.js', import.meta.url);

/**
 * Copies the WAL back into the database file from a worker thread. SQLite's automatic
 * checkpoint runs inside whichever COMMIT crosses the threshold, writing pages and
 * syncing the database file on the event loop; that showed as latency spikes under
 * load. The serving connection turns it off and this worker's own connection runs a
 * PASSIVE checkpoint (never blocking writers) every `everyMs`. Should the worker die,
 * the serving connection takes checkpoints back, so the WAL never grows unbounded.
 */
export class Checkpointer {
  readonly #worker: Worker;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  /**
   * Null when the compiled worker is not there (running from TypeScript sources): the
   * serving connection then keeps SQLite's automatic checkpoints.
   */
  static async start(
    raw: SqliteDatabase.Database,
    file: string,
    everyMs = 250,
  ): Promise<Checkpointer | null> {
    if (!existsSync(WORKER)) return null;
    const worker = new Worker(WORKER, { workerData: { file, everyMs } });
    worker.unref();
    await new Promise<void>((ok, fail) => {
      worker.once('message', () => ok());
      worker.once('error', fail);
    });
    raw.pragma('wal_autocheckpoint = 0');
    const takeBack = (): void => {
      if (raw.open) raw.pragma('wal_autocheckpoint = 1000');
    };
    worker.on('error', takeBack);
    worker.on('exit', takeBack);
    return new Checkpointer(worker);
  }

  async stop(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    await this.#worker.terminate();
  }
}
