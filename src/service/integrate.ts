import type { Clock } from '../core/clock.js';
import type { KeyRing, SigningKeyRecord } from '../keys/keyring.js';
import { signCheckpoint } from '../log/checkpoint.js';
import { LogError } from '../log/errors.js';
import {
  appendBatchCompute,
  appendBatchPlan,
  consistencyCompute,
  consistencyPlan,
} from '../log/tree.js';
import { verifyConsistency } from '../log/verify.js';
import { checkpointSigner } from './log-keys.js';
import type { StoredCheckpoint } from './ports/log.js';
import type { Store } from './ports/store.js';

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
  /** The batch was as large as allowed: more may have been queued before it was read. */
  readonly full: boolean;
  /** Nothing was done: asked not to wait, it found another integrator holding the log. */
  readonly busy: boolean;
}

export interface IntegrateOptions {
  /** Up to this many queued events. */
  readonly maxBatch?: number;
  /**
   * Give up at once if another integrator (another node) holds the log lock, instead of
   * waiting for it: that one is integrating what is queued already.
   */
  readonly unlessBusy?: boolean;
}

/**
 * Integrates one batch of queued events, then signs its checkpoint.
 *
 * The transaction assigns leaf indices in queue order, stores the newly complete
 * subtree hashes and records the new tree (size and root) as a checkpoint still to be
 * signed. Before it does, the new root is proven consistent with the previous tree from
 * the stored nodes (RFC 9162 §2.1.4); if it is not, nothing is recorded, so the log never
 * signs two checkpoints that are inconsistent with each other. The transaction holds the
 * log lock throughout, so on several nodes there is still one sequence of batches.
 *
 * The signature is made after the commit, like every signature (warrants, receipts): a
 * checkpoint is not visible to readers until signed, and one left unsigned by a crash is
 * signed by the next run.
 */
export async function integrateBatch(
  ctx: IntegrateContext,
  opts: IntegrateOptions = {},
): Promise<IntegrateResult> {
  const maxBatch = opts.maxBatch ?? 4096;
  const result = await ctx.store.transaction(async (tx): Promise<IntegrateResult> => {
    if (opts.unlessBusy === true) {
      if (!(await tx.log.tryLock())) return { integrated: 0, full: false, busy: true };
    } else await tx.log.lock();
    const last = await tx.log.latestTree();
    const start = last?.size ?? 0;
    const pending = await tx.log.pending(maxBatch);
    if (pending.length === 0) return { integrated: 0, full: false, busy: false };
    const hashes = await tx.log.nodes(appendBatchPlan(start, pending.length));
    const leafHashes = pending.map((p) => Buffer.from(p.leafHash, 'hex'));
    const appended = appendBatchCompute(start, leafHashes, hashes);
    await tx.log.assignLeafIndices(pending.map((p, i) => ({ id: p.id, index: start + i })));
    await tx.log.putNodes(appended.nodes);
    if (last) {
      const proof = consistencyCompute(
        start,
        appended.size,
        await tx.log.nodes(consistencyPlan(start, appended.size)),
      );
      const previous = Buffer.from(last.root, 'hex');
      if (!verifyConsistency(start, appended.size, proof, previous, appended.root)) {
        throw new LogError(
          'LOG_INCONSISTENT',
          `new tree of size ${appended.size} is not consistent with the last checkpoint`,
        );
      }
    }
    await tx.log.insertCheckpoint({
      size: appended.size,
      root: appended.root.toString('hex'),
      note: '',
      kid: '',
      at: ctx.clock.now().toISOString(),
    });
    return { integrated: pending.length, full: pending.length === maxBatch, busy: false };
  });
  if (!result.busy) await signWaiting(ctx);
  return result;
}

/** Signs every checkpoint still waiting for its signature, smallest first. */
export async function signWaiting(ctx: IntegrateContext): Promise<void> {
  const waiting = await ctx.store.read.log.unsigned();
  if (waiting.length === 0) return;
  const keys = await signingRing(ctx);
  for (const cp of waiting) await sign(ctx, keys, cp);
}

async function sign(ctx: IntegrateContext, keys: KeyRing, cp: StoredCheckpoint): Promise<void> {
  const note = signCheckpoint(
    { origin: ctx.origin, size: cp.size, rootHash: Buffer.from(cp.root, 'hex') },
    checkpointSigner(keys, ctx.origin),
  );
  await ctx.store.transaction((tx) => tx.log.signCheckpoint(cp.size, note, keys.activeKid));
}

/**
 * The ring to sign with. A key revoked on another node (or a rotation there) is in the
 * store before this node's periodic refresh sees it, and a checkpoint over a tree holding
 * its own signer's revocation is refused by every verifier. The tree being signed was
 * committed before this read, so a revocation inside it is visible here: the ring is
 * swapped when its active key is no longer active.
 */
async function signingRing(ctx: IntegrateContext): Promise<KeyRing> {
  const records = await ctx.store.read.keys.list();
  const current = ctx.keys();
  if (records.find((r) => r.kid === current.activeKid)?.state === 'active') return current;
  ctx.reloadKeys?.(records);
  const fresh = ctx.keys();
  if (records.find((r) => r.kid === fresh.activeKid)?.state !== 'active') {
    throw new LogError('LOG_INCONSISTENT', 'the signing key is no longer active in the store');
  }
  return fresh;
}
