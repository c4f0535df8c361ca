/** A log verify worker thread: hashes the runs of entries posted to it, in order. */
import { parentPort } from 'node:worker_threads';
import { hashChunk, transferables, type Chunk } from './chunk.js';

parentPort?.on('message', (chunk: Chunk) => {
  const r = hashChunk(chunk);
  parentPort?.postMessage(r, transferables(r));
});
