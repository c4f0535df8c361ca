import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash } from '../../src/log/hash.js';
import { appendBatch, consistencyPlan, inclusionPlan, rootPlan } from '../../src/log/tree.js';
import { nodeKey } from '../../src/log/nodes.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/verify.js';
import {
  consistencyProof,
  inclusionProof,
  rootOf,
  tamperedProofs,
  type NodeReader,
} from './proofs.js';
import type { MemoryStore } from './reference.js';
import { buildStore, flipBit, naiveConsistency, naivePath, naiveRoot, read } from './reference.js';

const MAX = 300;
const leaves = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`leaf ${i}`, 'utf8')));
const store = buildStore(leaves);
/** Reads the nodes of {@link store}. */
const fromStore: NodeReader = (ids, size) => read(store, ids, size);
const roots = Array.from({ length: MAX + 1 }, (_, n) => naiveRoot(leaves.slice(0, n)));

/** A size and a leaf index inside it. */
const sizeAndIndex = fc
  .integer({ min: 1, max: MAX })
  .chain((size) => fc.record({ size: fc.constant(size), index: fc.nat(size - 1) }));

/** Two sizes 0 < m <= n. */
const sizePair = fc
  .integer({ min: 1, max: MAX })
  .chain((n) => fc.record({ n: fc.constant(n), m: fc.integer({ min: 1, max: n }) }));

describe('tree', () => {
  describe('when sizes and indices are random', () => {
    it('computes the same root as the naive recursive MTH', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: MAX }), (size) => {
          expect(rootOf(size, fromStore)).toEqual(roots[size]);
        }),
      );
    });

    it('computes audit paths equal to the naive PATH that verify against the naive root', () => {
      fc.assert(
        fc.property(sizeAndIndex, ({ size, index }) => {
          const proof = inclusionProof(index, size, fromStore);
          expect(proof).toEqual(naivePath(index, leaves.slice(0, size)));
          expect(verifyInclusion(leaves[index]!, index, size, proof, roots[size]!)).toBe(true);
        }),
      );
    });

    it('computes consistency proofs equal to the naive PROOF that verify', () => {
      fc.assert(
        fc.property(sizePair, ({ m, n }) => {
          const proof = consistencyProof(m, n, fromStore);
          expect(proof).toEqual(naiveConsistency(m, leaves.slice(0, n)));
          expect(verifyConsistency(m, n, proof, roots[m]!, roots[n]!)).toBe(true);
        }),
      );
    });

    it('reads O(log n) nodes for any plan', () => {
      fc.assert(
        fc.property(sizeAndIndex, sizePair, ({ size, index }, { m, n }) => {
          const log = Math.ceil(Math.log2(Math.max(size, n, 2)));
          expect(inclusionPlan(index, size).length).toBeLessThanOrEqual(2 * log);
          expect(consistencyPlan(m, n).length).toBeLessThanOrEqual(2 * log + 1);
          expect(rootPlan(size).length).toBeLessThanOrEqual(log + 1);
        }),
      );
    });
  });

  describe('when arbitrary leaves are appended in random batches', () => {
    it('stores the same nodes as appending one by one', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 64 }),
          fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1 }),
          async (data, cuts) => {
            const hashes = data.map((d) => leafHash(d));
            const batched: MemoryStore = new Map();
            let size = 0;
            for (let c = 0; size < hashes.length; c++) {
              const batch = hashes.slice(size, size + cuts[c % cuts.length]!);
              const at = size;
              const result = await appendBatch(at, batch, (ids) =>
                Promise.resolve(read(batched, ids, at)),
              );
              for (const node of result.nodes) batched.set(nodeKey(node.id), node.hash);
              size = result.size;
              expect(result.root).toEqual(naiveRoot(hashes.slice(0, size)));
            }
            expect(batched).toEqual(buildStore(hashes));
          },
        ),
      );
    });
  });
});

describe('verifyInclusion', () => {
  describe('when a generated proof is tampered with', () => {
    it('rejects a flipped bit, a dropped or extra hash, and a wrong index', () => {
      fc.assert(
        fc.property(sizeAndIndex, fc.nat(), fc.nat(255), ({ size, index }, pick, bit) => {
          const proof = inclusionProof(index, size, fromStore);
          const root = roots[size]!;
          const leaf = leaves[index]!;
          for (const broken of tamperedProofs(proof, pick, bit, root)) {
            expect(verifyInclusion(leaf, index, size, broken, root)).toBe(false);
          }
          const other = (index + 1 + (pick % size)) % size;
          if (other !== index) expect(verifyInclusion(leaf, other, size, proof, root)).toBe(false);
        }),
      );
    });
  });
});

describe('verifyConsistency', () => {
  describe('when a generated proof is tampered with', () => {
    it('rejects a flipped bit, a dropped or extra hash, and swapped roots', () => {
      fc.assert(
        fc.property(sizePair, fc.nat(), fc.nat(255), ({ m, n }, pick, bit) => {
          const proof = consistencyProof(m, n, fromStore);
          const [rm, rn] = [roots[m]!, roots[n]!];
          for (const broken of tamperedProofs(proof, pick, bit, rn)) {
            expect(verifyConsistency(m, n, broken, rm, rn)).toBe(false);
          }
          if (m !== n) expect(verifyConsistency(m, n, proof, rn, rm)).toBe(false);
          expect(verifyConsistency(m, n, proof, flipBit(rm, bit), rn)).toBe(false);
        }),
      );
    });
  });
});
