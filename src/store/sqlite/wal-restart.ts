/**
 * What `PRAGMA wal_checkpoint` answers: whether it was blocked, the frames in the WAL and
 * how many of them are now in the database file.
 */
export interface CheckpointResult {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

/** Messages from the checkpoint thread to the serving thread. */
export type FromCheckpointer =
  | { readonly type: 'ready' }
  /** Start no batch until `release`; answer `held` once the batch in progress committed. */
  | { readonly type: 'hold' }
  | { readonly type: 'release' };

/** The serving thread's answer to `hold`. */
export interface HeldMessage {
  readonly type: 'held';
}

/** How a checkpoint round ended. */
export type RoundOutcome =
  /** Every frame is in the database file, so the writer's next transaction rewinds the WAL. */
  | 'rewinds'
  /** Everything copied, but the WAL is still short: no reason to stop the writer. */
  | 'short'
  /** A reader's snapshot (or another checkpoint) keeps frames in the WAL; holding would not help. */
  | 'blocked';

/**
 * One round of the checkpoint thread. SQLite rewinds the WAL to its start only when a write
 * transaction begins with every frame already copied into the database file. A PASSIVE
 * checkpoint copies the frames committed before it started, so under a writer that never
 * pauses it never catches up: the WAL grew by tens of megabytes a second under the
 * redemption bench, every commit extended the file, and the disk would eventually fill.
 * When the WAL is long and a first checkpoint copied everything it saw, the writer is held
 * while a second one copies the few frames committed meanwhile; its next batch then
 * rewinds the WAL, and the file stays the size of `restartFrames` plus a round's writes.
 */
export async function checkpointRound(
  checkpoint: () => CheckpointResult,
  holdWriter: () => Promise<() => void>,
  restartFrames: number,
): Promise<RoundOutcome> {
  const first = checkpoint();
  if (first.busy !== 0 || first.checkpointed < first.log) return 'blocked';
  if (first.log < restartFrames) return 'short';
  const release = await holdWriter();
  try {
    const last = checkpoint();
    return last.busy === 0 && last.checkpointed === last.log ? 'rewinds' : 'blocked';
  } finally {
    release();
  }
}
