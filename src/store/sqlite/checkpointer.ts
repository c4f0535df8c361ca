import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

// Plain CommonJS, run with `eval`: the worker needs no file of its own in src or dist.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked by another process: the next tick tries again.
  }
};
setInterval(checkpoint, workerData.everyMs);
parentPort.postMessage('ready');
`;

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

  static async start(
    raw: SqliteDatabase.Database,
    file: string,
    everyMs = 250,
  ): Promise<Checkpointer> {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, file, everyMs },
    });
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
