import * as tree from '../../src/log/tree.js';
import type { NodeHashes, NodeId } from '../../src/log/tree.js';
import { flipBit } from './reference.js';

/** Reads the nodes a plan names from a tree of `size` leaves (a store, or a virtual tree). */
export type NodeReader = (ids: readonly NodeId[], size: number) => NodeHashes;

/** The root of the first `size` leaves: planned, read, then computed, as the server does. */
export const rootOf = (size: number, read: NodeReader): Buffer =>
  tree.rootCompute(size, read(tree.rootPlan(size), size));

/** The audit path of leaf `index` in the tree of `size` leaves. */
export const inclusionProof = (index: number, size: number, read: NodeReader): Buffer[] =>
  tree.inclusionCompute(index, size, read(tree.inclusionPlan(index, size), size));

/** The proof that the tree of `m` leaves is a prefix of the tree of `n`. */
export const consistencyProof = (m: number, n: number, read: NodeReader): Buffer[] =>
  tree.consistencyCompute(m, n, read(tree.consistencyPlan(m, n), n));

/**
 * Broken copies of `proof`: with `extra` appended and, when it has a hash, with one bit
 * of hash `pick` (mod its length) flipped and with its last hash dropped.
 */
export function tamperedProofs(proof: Buffer[], pick: number, bit: number, extra: Buffer) {
  const broken = [[...proof, extra]];
  if (proof.length > 0) {
    const at = pick % proof.length;
    broken.push(
      proof.map((p, j) => (j === at ? flipBit(p, bit) : p)),
      proof.slice(0, -1),
    );
  }
  return broken;
}
