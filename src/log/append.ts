/**
 * Appending leaves to a store of complete perfect subtrees (RFC 9162 §2.1.1).
 * Re-exported by `tree.ts`.
 */
import { HASH_SIZE, nodeHash } from './hash.js';
import { LogError } from './errors.js';
import type { AppendResult, NewNode, NodeHashes, NodeId } from './nodes.js';
import { assertCount, lookup, rangeHash, rangeNodes } from './nodes.js';

function assertBatch(startSize: number, count: number): void {
  assertCount('startSize', startSize);
  assertCount('count', count);
  if (!Number.isSafeInteger(startSize + count)) {
    throw new LogError('LOG_RANGE_INVALID', 'tree size would exceed the safe integer range');
  }
}

/**
 * Stored nodes needed to append `count` leaves to a tree of `startSize` leaves and
 * compute the new root: the perfect subtrees of the old tree (at most 53). Nodes
 * created earlier in the same batch come from the batch itself.
 */
export function appendBatchPlan(startSize: number, count: number): NodeId[] {
  assertBatch(startSize, count);
  return rangeNodes([0, startSize]);
}

/**
 * Hashes the new leaves in, completing parents; returns a lookup over old + new nodes.
 * A right child's sibling is the newest node on its level, so one slot per level
 * holds every sibling the batch made itself; older ones come from the read.
 */
function appendLeaves(
  startSize: number,
  leafHashes: readonly Uint8Array[],
  hashes: NodeHashes,
  nodes: NewNode[],
): (id: NodeId) => Uint8Array {
  assertBatch(startSize, leafHashes.length);
  const newest: Array<{ index: number; hash: Buffer } | undefined> = [];
  const get = (id: NodeId): Uint8Array => {
    const n = newest[id.level];
    return n?.index === id.index ? n.hash : lookup(hashes, id);
  };
  leafHashes.forEach((leaf, offset) => {
    if (leaf.length !== HASH_SIZE) {
      throw new LogError('LOG_RANGE_INVALID', 'leaf hash must be 32 bytes');
    }
    let level = 0;
    let index = startSize + offset;
    let hash: Buffer = Buffer.from(leaf);
    nodes.push({ id: { level, index }, hash });
    // A right child (odd index) completes its parent (RFC 9162 §2.1.1 node hash).
    while (index % 2 === 1) {
      hash = nodeHash(get({ level, index: index - 1 }), hash);
      level += 1;
      index = (index - 1) / 2;
      nodes.push({ id: { level, index }, hash });
    }
    newest[level] = { index, hash };
  });
  return get;
}

/**
 * Appends `leafHashes` after `startSize` leaves, given the read of
 * {@link appendBatchPlan}. Returns every newly complete node and the new root.
 */
export function appendBatchCompute(
  startSize: number,
  leafHashes: readonly Uint8Array[],
  hashes: NodeHashes,
): AppendResult {
  const nodes: NewNode[] = [];
  const get = appendLeaves(startSize, leafHashes, hashes, nodes);
  const size = startSize + leafHashes.length;
  return { nodes, size, root: rangeHash([0, size], get) };
}

/** Stored nodes needed to append leaf number `size` (0-based): its left siblings. */
export function appendPlan(size: number): NodeId[] {
  assertBatch(size, 1);
  const out: NodeId[] = [];
  for (let level = 0, index = size; index % 2 === 1; level += 1, index = (index - 1) / 2) {
    out.push({ level, index: index - 1 });
  }
  return out;
}

/** The nodes completed by appending leaf number `size`, the leaf itself first. */
export function appendCompute(size: number, leafHash: Uint8Array, hashes: NodeHashes): NewNode[] {
  const nodes: NewNode[] = [];
  appendLeaves(size, [leafHash], hashes, nodes);
  return nodes;
}

/**
 * One plan, one read, one compute for a batch of leaves. `read` resolves node ids
 * to hashes (sync or async). For a synchronous store inside a transaction, use
 * {@link appendBatchPlan} and {@link appendBatchCompute} directly.
 */
export async function appendBatch(
  startSize: number,
  leafHashes: readonly Uint8Array[],
  read: (ids: NodeId[]) => NodeHashes | Promise<NodeHashes>,
): Promise<AppendResult> {
  const hashes = await read(appendBatchPlan(startSize, leafHashes.length));
  return appendBatchCompute(startSize, leafHashes, hashes);
}
