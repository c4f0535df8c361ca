/**
 * Test support for the log suites: a naive recursive RFC 9162 reference and an
 * in-memory node store built through the plan/compute API.
 */
import { expect } from 'vitest';
import { EMPTY_ROOT, nodeHash } from '../../src/log/hash.js';
import { appendCompute, appendPlan } from '../../src/log/tree.js';
import { nodeKey } from '../../src/log/nodes.js';
import type { NodeHashes, NodeId } from '../../src/log/tree.js';

/** The largest power of two strictly less than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of RFC 9162 §2.1.1, by direct recursion over leaf hashes. */
export function naiveRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1, by direct recursion. */
export function naivePath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return m < k
    ? [...naivePath(m, leaves.slice(0, k)), naiveRoot(leaves.slice(k))]
    : [...naivePath(m - k, leaves.slice(k)), naiveRoot(leaves.slice(0, k))];
}

/** SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1, by direct recursion. */
function naiveSubproof(m: number, leaves: readonly Buffer[], whole: boolean): Buffer[] {
  if (m === leaves.length) return whole ? [] : [naiveRoot(leaves)];
  const k = split(leaves.length);
  return m <= k
    ? [...naiveSubproof(m, leaves.slice(0, k), whole), naiveRoot(leaves.slice(k))]
    : [...naiveSubproof(m - k, leaves.slice(k), false), naiveRoot(leaves.slice(0, k))];
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1. */
export function naiveConsistency(m: number, leaves: readonly Buffer[]): Buffer[] {
  return naiveSubproof(m, leaves, true);
}

/** The exclusive leaf bound of a node: `(index + 1) * 2^level`. */
export function nodeEnd(id: NodeId): number {
  return (id.index + 1) * 2 ** id.level;
}

/** An in-memory node store: a Map from {@link nodeKey} to hash. */
export type MemoryStore = Map<string, Buffer>;

/** Appends leaf hashes one by one via appendPlan/appendCompute. */
export function buildStore(
  leafHashes: readonly Buffer[],
  store: MemoryStore = new Map(),
): MemoryStore {
  leafHashes.forEach((leaf, size) => {
    for (const node of appendCompute(size, leaf, read(store, appendPlan(size), size))) {
      store.set(nodeKey(node.id), node.hash);
    }
  });
  return store;
}

/**
 * One batch read: asserts every planned node is complete at `size` (so the
 * store could already hold it) and returns only those nodes.
 */
export function read(store: MemoryStore, ids: readonly NodeId[], size: number): NodeHashes {
  const out = new Map<string, Buffer>();
  for (const id of ids) {
    expect(nodeEnd(id)).toBeLessThanOrEqual(size);
    const hash = store.get(nodeKey(id));
    if (hash !== undefined) out.set(nodeKey(id), hash);
  }
  return out;
}

/** A copy of `hash` with bit `bit` (0-based from the first byte's MSB) flipped. */
export function flipBit(hash: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(hash);
  const byte = Math.floor(bit / 8);
  const mask = 0x80 / 2 ** (bit % 8);
  const value = copy[byte]!;
  // Arithmetic rather than `^`, to keep this suite free of bit operators.
  copy[byte] = Math.floor(value / mask) % 2 === 1 ? value - mask : value + mask;
  return copy;
}
