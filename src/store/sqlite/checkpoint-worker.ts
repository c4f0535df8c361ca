/**
 * The WAL checkpoint thread (see `Checkpointer`): its own connection runs a PASSIVE
 * checkpoint, which never blocks writers, every `everyMs`, and holds the serving thread's
 * writer briefly when the WAL needs rewinding (see `checkpointRound`).
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import {
  checkpointRound,
  type CheckpointResult,
  type FromCheckpointer,
  type HeldMessage,
} from './wal-restart.js';

const { file, everyMs, restartFrames } = workerData as {
  file: string;
  everyMs: number;
  restartFrames: number;
};
const db = new SqliteDatabase(file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const port = parentPort;
if (!port) throw new Error('checkpoint-worker runs as a worker thread');
const send = (message: FromCheckpointer): void => port.postMessage(message);

let onHeld: (() => void) | null = null;
port.on('message', (message: HeldMessage) => {
  if (message.type === 'held') onHeld?.();
});

const holdWriter = (): Promise<() => void> =>
  new Promise((held) => {
    onHeld = () => {
      onHeld = null;
      held(() => send({ type: 'release' }));
    };
    send({ type: 'hold' });
  });

const checkpoint = (): CheckpointResult =>
  (db.pragma('wal_checkpoint(PASSIVE)') as CheckpointResult[])[0] as CheckpointResult;

async function round(): Promise<void> {
  try {
    await checkpointRound(checkpoint, holdWriter, restartFrames);
  } catch {
    // Locked by another process: the next round tries again.
  }
  setTimeout(() => void round(), everyMs);
}

setTimeout(() => void round(), everyMs);
send({ type: 'ready' });
