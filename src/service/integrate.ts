import { LogError } from '../log/errors.js';
import { signCheckpoint } from '../log/checkpoint.js';
import { checkpointSigner } from './log-keys.js';
import {
  appendBatchCompute,
  appendBatchPlan,
  consistencyCompute,
  consistencyPlan,
} from '../log/tree.js';
import { verifyConsistency } from '../log/verify.js';
import type { KeyRing, SigningKeyRecord } from '../keys/keyring.js';
import type { Clock } from '../core/clock.js';
import type { Repo, Store } from '../store/store.js';

export interface IntegrateContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly keys: () => KeyRing;
  /** Swaps the ring for the stored key set, when another node rotated or revoked. */
  readonly reloadKeys?: (records: readonly SigningKeyRecord[]) => void;
  /** The checkpoint origin line and note key name, e.g. `countersign.example.com/log`. */
  readonly origin: string;
}

export interface IntegrateResult {
  readonly integrated: number;
  readonly size: number;
}

/**
 * The ring to sign this batch with. A key revoked on another node (or a rotation there)
 * is in the store before this node's periodic refresh sees it; the batch may hold that
 * key's `key.revoked` event, and a checkpoint over a tree holding its own signer's
 * revocation is refused by every verifier. So the stored key set is read under the
 * sequencer lock, after the batch, and the ring swapped when its active key is stale.
 */
async function signingRing(ctx: IntegrateContext, tx: Repo): Promise<KeyRing> {
  const records = await tx.listKeys();
  const current = ctx.keys();
  if (records.find((r) => r.kid === current.activeKid)?.state === 'active') return current;
  ctx.reloadKeys?.(records);
  const fresh = ctx.keys();
  if (records.find((r) => r.kid === fresh.activeKid)?.state !== 'active') {
    throw new LogError('LOG_INCONSISTENT', 'the signing key is no longer active in the store');
  }
  return fresh;
}

/**
 * Integrates one batch of queued events: assigns leaf indices in queue order, stores
 * the newly complete subtree hashes and signs one checkpoint, all in one transaction.
 *
 * Before signing, the new root is proven consistent with the last signed checkpoint
 * from the stored nodes (RFC 9162 §2.1.4); if it is not, nothing is signed. So the
 * log never signs two checkpoints that are inconsistent with each other.
 *
 * The transaction holds the log lock from its first statement to its commit, so on
 * several nodes there is still one sequence of batches, each extending the last
 * committed checkpoint. It is safe to rerun as a whole (it has no effect outside the
 * transaction but the signing, which is pure).
 */
export async function integrateBatch(
  ctx: IntegrateContext,
  maxBatch = 4096,
): Promise<IntegrateResult> {
  return ctx.store.transaction(async (tx) => {
    // The sequencer lock, before anything is read: across nodes sharing a PostgreSQL
    // database one integrator at a time extends the tree from the latest checkpoint
    // (docs/decisions/0005). On SQLite, BEGIN IMMEDIATE already serialises this.
    await tx.lockLog();
    const last = await tx.latestCheckpoint();
    const start = last?.size ?? 0;
    const pending = await tx.pendingEvents(maxBatch);
    if (pending.length === 0) return { integrated: 0, size: start };
    const hashes = await tx.getNodes(appendBatchPlan(start, pending.length));
    const leafHashes = pending.map((p) => Buffer.from(p.leafHash, 'hex'));
    const appended = appendBatchCompute(start, leafHashes, hashes);
    await tx.assignLeafIndices(pending.map((p, i) => ({ id: p.id, index: start + i })));
    await tx.putNodes(appended.nodes);
    if (last) {
      const proof = consistencyCompute(
        start,
        appended.size,
        await tx.getNodes(consistencyPlan(start, appended.size)),
      );
      if (
        !verifyConsistency(
          start,
          appended.size,
          proof,
          Buffer.from(last.root, 'hex'),
          appended.root,
        )
      ) {
        throw new LogError(
          'LOG_INCONSISTENT',
          `new tree of size ${appended.size} is not consistent with the last checkpoint`,
        );
      }
    }
    const keys = await signingRing(ctx, tx);
    const note = signCheckpoint(
      { origin: ctx.origin, size: appended.size, rootHash: appended.root },
      checkpointSigner(keys, ctx.origin),
    );
    await tx.insertCheckpoint({
      size: appended.size,
      root: appended.root.toString('hex'),
      note,
      kid: keys.activeKid,
      at: ctx.clock.now().toISOString(),
    });
    return { integrated: pending.length, size: appended.size };
  });
}
