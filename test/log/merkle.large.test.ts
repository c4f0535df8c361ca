import { describe, expect, it } from 'vitest';
import { leafHash, nodeHash } from '../../src/log/hash.js';
import {
  appendBatchCompute,
  appendBatchPlan,
  appendCompute,
  appendPlan,
} from '../../src/log/tree.js';
import { nodeKey } from '../../src/log/nodes.js';
import type { NodeHashes, NodeId } from '../../src/log/tree.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/verify.js';
import { consistencyProof, inclusionProof, rootOf } from './proofs.js';
import { nodeEnd } from './reference.js';

/**
 * A virtual tree of any size whose leaf `i` is `leafHash([i mod 16])`. Every
 * perfect subtree's hash then depends only on its level and `index mod 2^(4-level)`,
 * so nodes of a 2^50-leaf tree are cheap to compute and mutually consistent.
 */
const PERIOD_LEVEL = 4;
const PERIOD = 2 ** PERIOD_LEVEL;
const memo = new Map<string, Buffer>();
function virtualNode({ level, index }: NodeId): Buffer {
  if (level === 0) return leafHash(Buffer.from([index % PERIOD]));
  const canonical = level >= PERIOD_LEVEL ? 0 : index % 2 ** (PERIOD_LEVEL - level);
  const key = `${level}/${canonical}`;
  let hash = memo.get(key);
  if (hash === undefined) {
    const left = virtualNode({ level: level - 1, index: 2 * canonical });
    hash = nodeHash(left, virtualNode({ level: level - 1, index: 2 * canonical + 1 }));
    memo.set(key, hash);
  }
  return hash;
}

/** Checks every id is a real complete node of the tree of `size` leaves. */
function expectValid(ids: readonly NodeId[], size: number): void {
  const log = Math.ceil(Math.log2(size));
  expect(ids.length).toBeLessThanOrEqual(2 * log + 1);
  for (const { level, index } of ids) {
    expect(Number.isSafeInteger(level) && level >= 0 && level <= 53).toBe(true);
    expect(Number.isSafeInteger(index) && index >= 0).toBe(true);
    expect(nodeEnd({ level, index })).toBeLessThanOrEqual(size);
  }
}

function readVirtual(ids: readonly NodeId[], size: number): NodeHashes {
  expectValid(ids, size);
  return new Map(ids.map((id) => [nodeKey(id), virtualNode(id)]));
}

const SIZES = [2 ** 32 + 1, 2 ** 40 + 5, 2 ** 50 + 5, 2 ** 53 - 2];

describe('tree', () => {
  describe.each(SIZES)('when the tree has %d leaves', (size) => {
    it('plans a root from O(log n) valid nodes and folds them', () => {
      const root = rootOf(size, readVirtual);
      expect(root).toHaveLength(32);
    });

    it('plans and verifies inclusion proofs near both edges', () => {
      const root = rootOf(size, readVirtual);
      for (const index of [0, 1, 2 ** 32 - 1, 2 ** 32, size - 6, size - 2, size - 1]) {
        const proof = inclusionProof(index, size, readVirtual);
        const leaf = virtualNode({ level: 0, index });
        expect(verifyInclusion(leaf, index, size, proof, root)).toBe(true);
        expect(verifyInclusion(leaf, index, size, proof.slice(1), root)).toBe(false);
      }
    });

    it('plans and verifies consistency proofs from smaller trees', () => {
      const rootN = rootOf(size, readVirtual);
      for (const m of [1, 7, 2 ** 31, 2 ** 32 + 1, size - 1, size]) {
        const rootM = rootOf(m, readVirtual);
        const proof = consistencyProof(m, size, readVirtual);
        expect(verifyConsistency(m, size, proof, rootM, rootN)).toBe(true);
        if (m !== size) {
          expect(verifyConsistency(m, size, proof.slice(0, -1), rootM, rootN)).toBe(false);
        }
      }
    });

    it('appends the next leaf from O(log n) valid nodes', () => {
      const plan = appendPlan(size - 1);
      expectValid(plan, size - 1);
      const leaf = virtualNode({ level: 0, index: size - 1 });
      const nodes = appendCompute(size - 1, leaf, readVirtual(plan, size - 1));
      expect(nodes[0]!.id).toEqual({ level: 0, index: size - 1 });
      for (const node of nodes) {
        expect(nodeEnd(node.id)).toBe(size);
        expect(node.hash).toEqual(virtualNode(node.id));
      }
    });

    it('appends a batch crossing power-of-two boundaries and returns the new root', () => {
      const start = size - 5;
      const leaves = [0, 1, 2, 3, 4].map((i) => virtualNode({ level: 0, index: start + i }));
      const result = appendBatchCompute(
        start,
        leaves,
        readVirtual(appendBatchPlan(start, 5), start),
      );
      expect(result.size).toBe(size);
      expect(result.root).toEqual(rootOf(size, readVirtual));
      for (const node of result.nodes) expect(node.hash).toEqual(virtualNode(node.id));
    });
  });

  describe('when a leaf is appended at an index just past 2^40', () => {
    it('plans only left siblings with indices below the bound', () => {
      const size = 2 ** 40 + 2 ** 20 - 1; // 20 trailing one bits
      const plan = appendPlan(size);
      expect(plan).toHaveLength(20);
      expectValid(plan, size);
      expect(plan.at(-1)).toEqual({ level: 19, index: 2 ** 21 });
    });
  });
});
