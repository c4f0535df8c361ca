/**
 * The WAL checkpoint thread (see `Checkpointer`): its own connection runs a PASSIVE
 * checkpoint, which never blocks writers, every `everyMs`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

const { file, everyMs } = workerData as { file: string; everyMs: number };
const db = new SqliteDatabase(file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked by another process: the next tick tries again.
  }
}, everyMs);
parentPort?.postMessage('ready');
