/**
 * Where the leaves of a log verify are hashed: worker threads, each fed whole runs of
 * entries, or (for tests and small logs) the calling thread.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { hashChunk, transferables, type Chunk, type ChunkResult } from './chunk.js';

export interface ChunkHasher {
  /** How many runs it works on at once. */
  readonly size: number;
  hash(chunk: Chunk): Promise<ChunkResult>;
  close(): Promise<void>;
}

interface Waiter {
  readonly resolve: (r: ChunkResult) => void;
  readonly reject: (e: unknown) => void;
}

const WORKER = new URL('./audit-worker.js', import.meta.url);

/** Worker threads running `audit-worker.js`, handed runs in turn; each answers in order. */
export class WorkerHasher implements ChunkHasher {
  /** Whether the compiled worker is there (it is not when running from TypeScript sources). */
  static available(): boolean {
    return existsSync(WORKER);
  }

  readonly #workers: Array<{ worker: Worker; waiting: Waiter[] }> = [];
  #turn = 0;

  constructor(count: number, script: URL = new URL('./audit-worker.js', import.meta.url)) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(script);
      const waiting: Waiter[] = [];
      const failAll = (e: unknown): void => {
        for (const w of waiting.splice(0)) w.reject(e);
      };
      worker.on('message', (r: ChunkResult) => waiting.shift()?.resolve(r));
      worker.on('error', failAll);
      worker.on('exit', (code) => failAll(new Error(`log verify worker exited with code ${code}`)));
      this.#workers.push({ worker, waiting });
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  hash(chunk: Chunk): Promise<ChunkResult> {
    const w = this.#workers[this.#turn++ % this.#workers.length];
    if (w === undefined) return Promise.reject(new Error('no log verify workers'));
    return new Promise((resolve, reject) => {
      w.waiting.push({ resolve, reject });
      w.worker.postMessage(chunk, transferables(chunk));
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}

/** Hashes each run on the calling thread, between reads. */
export const inThreadHasher: ChunkHasher = {
  size: 1,
  hash: (chunk) => Promise.resolve().then(() => hashChunk(chunk)),
  close: () => Promise.resolve(),
};
