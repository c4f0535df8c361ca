import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LogError } from '../../src/log/errors.js';
import { EMPTY_ROOT, leafHash } from '../../src/log/hash.js';
import {
  appendBatchCompute,
  appendBatchPlan,
  appendPlan,
  consistencyCompute,
  consistencyPlan,
  inclusionCompute,
  inclusionPlan,
  rootCompute,
  rootPlan,
} from '../../src/log/tree.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/verify.js';
import { buildStore, flipBit, read } from './reference.js';

interface Rfc6962Vectors {
  leaf_inputs_hex: string[];
  roots_by_tree_size_hex: Record<string, string>;
  inclusion: { leaf_index_0based: number; tree_size: number; proof_hex: string[] }[];
  consistency: { first: number; second: number; proof_hex: string[] }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/rfc6962.json', import.meta.url), 'utf8'),
) as Rfc6962Vectors;

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const leaves = vectors.leaf_inputs_hex.map((h) => leafHash(hex(h)));
const store = buildStore(leaves);
const rootOf = (size: number): Buffer => hex(vectors.roots_by_tree_size_hex[String(size)]!);
const maxSize = leaves.length;

function expectLogError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LogError);
    expect((e as LogError).code).toBe(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe('tree', () => {
  describe('when the RFC 6962 vector leaves are appended one by one', () => {
    it('reproduces the root for every tree size', () => {
      expect(Object.keys(vectors.roots_by_tree_size_hex)).toHaveLength(maxSize + 1);
      for (let size = 0; size <= maxSize; size++) {
        const root = rootCompute(size, read(store, rootPlan(size), size));
        expect(root.toString('hex')).toBe(rootOf(size).toString('hex'));
      }
      expect(rootCompute(0, new Map())).toEqual(EMPTY_ROOT);
    });

    it('produces the same nodes and roots when appended in one batch', () => {
      const result = appendBatchCompute(0, leaves, read(store, appendBatchPlan(0, maxSize), 0));
      expect(result.size).toBe(maxSize);
      expect(result.root).toEqual(rootOf(maxSize));
      expect(result.nodes).toHaveLength(store.size);
      for (const node of result.nodes) {
        expect(store.get(`${node.id.level}/${node.id.index}`)).toEqual(node.hash);
      }
    });

    it('continues a batch from every intermediate size', () => {
      for (let start = 0; start <= maxSize; start++) {
        const plan = appendBatchPlan(start, maxSize - start);
        const result = appendBatchCompute(start, leaves.slice(start), read(store, plan, start));
        expect(result.root).toEqual(rootOf(maxSize));
      }
    });
  });

  describe('when inclusion proofs are generated for the vectors', () => {
    it.each(vectors.inclusion)(
      'matches the audit path of leaf $leaf_index_0based in a tree of $tree_size byte for byte',
      ({ leaf_index_0based: index, tree_size: size, proof_hex }) => {
        const proof = inclusionCompute(index, size, read(store, inclusionPlan(index, size), size));
        expect(proof.map((p) => p.toString('hex'))).toEqual(proof_hex);
        expect(verifyInclusion(leaves[index]!, index, size, proof, rootOf(size))).toBe(true);
      },
    );
  });

  describe('when consistency proofs are generated for the vectors', () => {
    it.each(vectors.consistency)(
      'matches the proof from $first to $second byte for byte',
      ({ first, second, proof_hex }) => {
        const proof = consistencyCompute(
          first,
          second,
          read(store, consistencyPlan(first, second), second),
        );
        expect(proof.map((p) => p.toString('hex'))).toEqual(proof_hex);
        expect(verifyConsistency(first, second, proof, rootOf(first), rootOf(second))).toBe(true);
      },
    );
  });

  describe('when inputs are out of range', () => {
    it('rejects bad sizes, indices and ranges with LOG_RANGE_INVALID', () => {
      for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
        expectLogError(() => rootPlan(bad), 'LOG_RANGE_INVALID');
        expectLogError(() => appendPlan(bad), 'LOG_RANGE_INVALID');
        expectLogError(() => inclusionPlan(0, bad), 'LOG_RANGE_INVALID');
      }
      expectLogError(() => appendPlan(2 ** 53 - 1), 'LOG_RANGE_INVALID');
      expectLogError(() => inclusionPlan(8, 8), 'LOG_RANGE_INVALID');
      expectLogError(() => inclusionPlan(-1, 8), 'LOG_RANGE_INVALID');
      expectLogError(() => consistencyPlan(0, 8), 'LOG_RANGE_INVALID');
      expectLogError(() => consistencyPlan(9, 8), 'LOG_RANGE_INVALID');
      expectLogError(() => appendBatchPlan(2 ** 53 - 2, 2), 'LOG_RANGE_INVALID');
    });

    it('rejects a read that lacks a planned node with LOG_INCONSISTENT', () => {
      expectLogError(() => rootCompute(7, new Map()), 'LOG_INCONSISTENT');
      const short = new Map([['2/0', Buffer.alloc(31)]]);
      expectLogError(() => rootCompute(4, short), 'LOG_INCONSISTENT');
    });
  });
});

describe('verifyInclusion', () => {
  describe('when a vector proof is tampered with', () => {
    it.each(vectors.inclusion)(
      'rejects every change to the proof of leaf $leaf_index_0based in $tree_size',
      ({ leaf_index_0based: index, tree_size: size, proof_hex }) => {
        const proof = proof_hex.map(hex);
        const root = rootOf(size);
        const ok = (p: Buffer[], i = index, n = size, r = root): boolean =>
          verifyInclusion(leaves[index]!, i, n, p, r);
        expect(ok(proof)).toBe(true);
        proof.forEach((_, at) => {
          for (let bit = 0; bit < 256; bit++) {
            expect(ok(proof.map((p, j) => (j === at ? flipBit(p, bit) : p)))).toBe(false);
          }
        });
        for (let len = 0; len < proof.length; len++) expect(ok(proof.slice(0, len))).toBe(false);
        expect(ok([...proof, root])).toBe(false);
        expect(ok([...proof, EMPTY_ROOT])).toBe(false);
        // RFC 9162 §2.1.3.2 binds the size only through the root (a path for leaf 0
        // of 8 also folds for leaf 0 of 5), so each wrong (index, size) is paired
        // with the honest root of that size, as a checkpoint would pair them.
        for (let n = 1; n <= maxSize; n++) {
          for (let i = 0; i < n; i++) {
            if (i !== index || n !== size) expect(ok(proof, i, n, rootOf(n))).toBe(false);
          }
        }
        expect(ok(proof, index, 2 ** 40 + size)).toBe(false);
        expect(ok(proof, index, size, flipBit(root, 0))).toBe(false);
        expect(verifyInclusion(flipBit(leaves[index]!, 7), index, size, proof, root)).toBe(false);
      },
    );
  });

  describe('when given malformed input', () => {
    it('returns false instead of throwing', () => {
      const root = rootOf(8);
      const leaf = leaves[0]!;
      expect(verifyInclusion(leaf, 0, 8, [Buffer.alloc(31)], root)).toBe(false);
      expect(verifyInclusion(leaf, Number.NaN, 8, [], root)).toBe(false);
      expect(verifyInclusion(leaf, 0, 2 ** 60, [], root)).toBe(false);
      expect(verifyInclusion(leaf, 0, 1, [], Buffer.alloc(3))).toBe(false);
      expect(verifyInclusion(Buffer.alloc(0), 0, 1, [], root)).toBe(false);
      expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
    });
  });
});

describe('verifyConsistency', () => {
  describe('when a vector proof is tampered with', () => {
    it.each(vectors.consistency)(
      'rejects every change to the proof from $first to $second',
      ({ first, second, proof_hex }) => {
        const proof = proof_hex.map(hex);
        const ok = (p: Buffer[], m = first, n = second, rm = rootOf(m), rn = rootOf(n)): boolean =>
          verifyConsistency(m, n, p, rm, rn);
        expect(ok(proof)).toBe(true);
        proof.forEach((_, at) => {
          for (let bit = 0; bit < 256; bit++) {
            expect(ok(proof.map((p, j) => (j === at ? flipBit(p, bit) : p)))).toBe(false);
          }
        });
        for (let len = 0; len < proof.length; len++) expect(ok(proof.slice(0, len))).toBe(false);
        expect(ok([...proof, rootOf(second)])).toBe(false);
        for (let n = 1; n <= maxSize; n++) {
          for (let m = 1; m <= n; m++) {
            if (m !== first || n !== second) expect(ok(proof, m, n)).toBe(false);
          }
        }
        expect(ok(proof, first, second, rootOf(second), rootOf(first))).toBe(false);
        expect(ok(proof, first, second, flipBit(rootOf(first), 255))).toBe(false);
      },
    );
  });

  describe('when the sizes are equal or the first tree is empty', () => {
    it('accepts only an empty proof and matching roots', () => {
      expect(verifyConsistency(5, 5, [], rootOf(5), rootOf(5))).toBe(true);
      expect(verifyConsistency(5, 5, [rootOf(5)], rootOf(5), rootOf(5))).toBe(false);
      expect(verifyConsistency(5, 5, [], rootOf(5), rootOf(6))).toBe(false);
      expect(verifyConsistency(0, 8, [], EMPTY_ROOT, rootOf(8))).toBe(true);
      expect(verifyConsistency(0, 8, [], rootOf(1), rootOf(8))).toBe(false);
      expect(verifyConsistency(6, 5, [], rootOf(6), rootOf(5))).toBe(false);
      expect(consistencyCompute(5, 5, new Map())).toEqual([]);
    });
  });
});
