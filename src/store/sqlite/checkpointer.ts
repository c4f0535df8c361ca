import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';
import type { FromCheckpointer, HeldMessage } from './wal-restart.js';

const WORKER = new URL('./checkpoint-worker.js', import.meta.url);

/** The serving thread's writer, which the checkpoint thread may hold between two batches. */
export interface WriterGate {
  /** Starts no batch until released; resolves once the batch in progress has committed. */
  hold(): Promise<() => void>;
}

export interface CheckpointOptions {
  /** How often the worker checkpoints. */
  readonly everyMs?: number;
  /** The WAL length, in frames, past which the writer is held so that the WAL rewinds. */
  readonly restartFrames?: number;
  /** The longest the writer stays held, should the worker not answer. */
  readonly maxHoldMs?: number;
}

/**
 * Copies the WAL back into the database file from a worker thread. SQLite's automatic
 * checkpoint runs inside whichever COMMIT crosses the threshold, writing pages and
 * syncing the database file on the event loop; that showed as latency spikes under
 * load. The serving connection turns it off and this worker's own connection runs a
 * PASSIVE checkpoint (never blocking writers) every `everyMs`, holding the writer for
 * the last few frames when the WAL must rewind (see `checkpointRound`). Should the
 * worker die, the serving connection takes checkpoints back.
 */
export class Checkpointer {
  readonly #worker: Worker;
  #release: (() => void) | null = null;

  private constructor(
    worker: Worker,
    private readonly writer: WriterGate,
    private readonly maxHoldMs: number,
  ) {
    this.#worker = worker;
  }

  /**
   * Null when the compiled worker is not there (running from TypeScript sources): the
   * serving connection then keeps SQLite's automatic checkpoints.
   */
  static async start(
    raw: SqliteDatabase.Database,
    file: string,
    writer: WriterGate,
    opts: CheckpointOptions = {},
  ): Promise<Checkpointer | null> {
    if (!existsSync(WORKER)) return null;
    const { everyMs = 250, restartFrames = 4096, maxHoldMs = 250 } = opts;
    const worker = new Worker(WORKER, { workerData: { file, everyMs, restartFrames } });
    worker.unref();
    await new Promise<void>((ok, fail) => {
      worker.once('message', () => ok());
      worker.once('error', fail);
    });
    raw.pragma('wal_autocheckpoint = 0');
    const checkpointer = new Checkpointer(worker, writer, maxHoldMs);
    worker.on('message', (m: FromCheckpointer) => checkpointer.#onMessage(m));
    const takeBack = (): void => {
      checkpointer.#unhold();
      if (raw.open) raw.pragma('wal_autocheckpoint = 1000');
    };
    worker.on('error', takeBack);
    worker.on('exit', takeBack);
    return checkpointer;
  }

  #onMessage(message: FromCheckpointer): void {
    switch (message.type) {
      case 'ready':
        return;
      case 'hold':
        return void this.#hold();
      case 'release':
        return this.#unhold();
      default: {
        const never: never = message;
        throw new Error(`unexpected checkpoint message ${JSON.stringify(never)}`);
      }
    }
  }

  async #hold(): Promise<void> {
    const release = await this.writer.hold();
    // A worker stuck in a checkpoint must not stop every write: the hold lapses by itself.
    const lapse = setTimeout(() => this.#unhold(), this.maxHoldMs);
    lapse.unref();
    this.#release = () => {
      clearTimeout(lapse);
      release();
    };
    const held: HeldMessage = { type: 'held' };
    this.#worker.postMessage(held);
  }

  #unhold(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  async stop(): Promise<void> {
    this.#worker.removeAllListeners('exit');
    this.#unhold();
    await this.#worker.terminate();
  }
}
