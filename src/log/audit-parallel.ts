/**
 * The parallel pass of a log verify. This thread keeps reading pages and checking
 * positions, and hands runs of entries to a {@link ChunkHasher}; their results are
 * folded strictly in order, so the first divergence reported is the one the
 * entry-by-entry pass would report.
 *
 * A run is cut into segments at every checkpoint size inside it, so each checkpoint's
 * root is checked right after the segment that reaches it, before any later entry can
 * be blamed; runs stay large however densely checkpoints were signed.
 */
import { RootAccumulator } from './accumulator.js';
import type { ChunkHasher } from './audit-pool.js';
import {
  fail,
  finish,
  leafMismatch,
  positionProblem,
  type CheckpointCursor,
  type OpenedCheckpoint,
} from './audit-steps.js';
import type { AuditInput } from './audit-types.js';
import type { AuditReport, Divergence } from './audit-types.js';
import { alignedPieces, ChunkBuilder, type ChunkResult } from './chunk.js';
import { HASH_SIZE } from './hash.js';

const CHUNK = 16_384;
// Runs queued per hasher: enough to keep workers busy while this thread reads.
const AHEAD = 3;

interface Pending {
  readonly begin: number;
  readonly cuts: readonly number[];
  readonly result: Promise<ChunkResult>;
}

export async function auditInChunks(
  input: AuditInput,
  hasher: ChunkHasher,
  opened: readonly OpenedCheckpoint[],
  total: number,
  cursor: CheckpointCursor,
): Promise<AuditReport> {
  const chunk = input.chunkSize ?? CHUNK;
  const acc = new RootAccumulator();
  const queue: Pending[] = [];
  const spare: Uint8Array[] = [];

  // Folds the oldest run into the tree; a report if it, or a checkpoint it reaches, fails.
  const settle = async (): Promise<AuditReport | null> => {
    const { begin, cuts, result } = queue.shift() as Pending;
    const r = await result;
    spare.push(r.leaves);
    let from = begin;
    let k = 0;
    for (const cut of cuts) {
      // The segment holding a mismatch was not folded; the checkpoints before it were.
      if (r.mismatch !== null && cut > r.mismatch) break;
      for (const width of alignedPieces(from, cut)) {
        acc.pushSubtree(r.roots.subarray(k * HASH_SIZE, (k + 1) * HASH_SIZE), width);
        k += 1;
      }
      from = cut;
      const d = cursor.checkUpTo(acc);
      if (d) return fail(acc.size, acc.size, opened.length, d);
    }
    if (r.mismatch !== null)
      return fail(r.mismatch, r.mismatch, opened.length, leafMismatch(r.mismatch));
    if (Math.floor(acc.size / 10_000) > Math.floor(begin / 10_000))
      input.onProgress?.(acc.size, total);
    return null;
  };

  let at = 0;
  let run = new ChunkBuilder(0);
  let cuts: number[] = [];
  let nextCut = cursor.nextSizeAbove(0);
  const dispatch = (): void => {
    if (run.count > 0) {
      if (cuts.at(-1) !== at) cuts.push(at);
      const result = hasher.hash(run.build(cuts));
      // Awaited in order by settle; a run abandoned after an earlier failure must not
      // surface as an unhandled rejection.
      result.catch(() => undefined);
      queue.push({ begin: run.begin, cuts, result });
    }
    run = new ChunkBuilder(at, spare.pop());
    cuts = [];
  };

  let stop: Divergence | null = null;
  read: for await (const page of input.pages) {
    for (const e of page) {
      stop = positionProblem(e, at, total);
      if (stop) break read;
      run.add(e.leaf, e.leafHash);
      at += 1;
      if (at === nextCut) {
        cuts.push(at);
        nextCut = cursor.nextSizeAbove(at);
      }
      if (at % chunk === 0) {
        dispatch();
        while (queue.length > AHEAD * hasher.size) {
          const report = await settle();
          if (report) return report;
        }
      }
    }
  }
  dispatch();
  while (queue.length > 0) {
    const report = await settle();
    if (report) return report;
  }
  if (stop) return fail(at, at, opened.length, stop);
  input.onProgress?.(acc.size, total);
  return finish(acc.size, total, opened.length);
}
