import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../console/src/lib/bytes.js';
import { leafHash, rootFromInclusionProof, verifyInclusion } from '../../console/src/lib/merkle.js';
import { leafHash as serverLeafHash } from '../../src/log/hash.js';
import { inclusionCompute, inclusionPlan, rootCompute, rootPlan } from '../../src/log/tree.js';
import { buildStore, read } from '../log/reference.js';

interface Vectors {
  leaf_inputs_hex: string[];
  roots_by_tree_size_hex: Record<string, string>;
  inclusion: { leaf_index_0based: number; tree_size: number; proof_hex: string[] }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../vectors/rfc6962.json', import.meta.url), 'utf8'),
) as Vectors;
const hex = (h: string): Uint8Array => fromHex(h)!;

describe('console merkle: RFC 6962 vectors (transparency-dev/merkle)', () => {
  it.each(vectors.inclusion)(
    'verifies leaf $leaf_index_0based of a tree of $tree_size',
    async ({ leaf_index_0based: index, tree_size: size, proof_hex }) => {
      const leaf = await leafHash(hex(vectors.leaf_inputs_hex[index]!));
      const root = hex(vectors.roots_by_tree_size_hex[String(size)]!);
      const proof = proof_hex.map(hex);
      expect(await verifyInclusion(leaf, index, size, proof, root)).toBe(true);
      // Any other index, a shortened or lengthened path, or another root fails.
      expect(await verifyInclusion(leaf, (index + 1) % size, size, proof, root)).toBe(false);
      expect(await verifyInclusion(leaf, index, size, proof.slice(1), root)).toBe(false);
      expect(await verifyInclusion(leaf, index, size, [...proof, root], root)).toBe(false);
      const other = hex(vectors.roots_by_tree_size_hex[String(size - 1)]!);
      expect(await verifyInclusion(leaf, index, size, proof, other)).toBe(false);
    },
  );

  it('hashes leaves as the server does', async () => {
    for (const input of vectors.leaf_inputs_hex) {
      const bytes = hex(input);
      expect(toHex(await leafHash(bytes))).toBe(serverLeafHash(bytes).toString('hex'));
    }
  });

  it('fails, never throws, on malformed input', async () => {
    const leaf = new Uint8Array(32);
    expect(await rootFromInclusionProof(leaf, 0, 0, [])).toBeUndefined();
    expect(await rootFromInclusionProof(leaf, -1, 4, [])).toBeUndefined();
    expect(await rootFromInclusionProof(leaf, 1.5, 4, [])).toBeUndefined();
    expect(await rootFromInclusionProof(new Uint8Array(31), 0, 1, [])).toBeUndefined();
    expect(await rootFromInclusionProof(leaf, 0, 2, [new Uint8Array(33)])).toBeUndefined();
    expect(await rootFromInclusionProof(leaf, 0, 1, [])).toEqual(leaf);
  });
});

describe('console merkle: proofs made by the server log code (src/log/tree.ts)', () => {
  const leaves = Array.from({ length: 37 }, (_, i) =>
    serverLeafHash(Buffer.from(`{"event":${i}}`, 'utf8')),
  );
  const store = buildStore(leaves);
  it('verifies every leaf of every tree size up to 37', async () => {
    for (let size = 1; size <= leaves.length; size++) {
      const root = rootCompute(size, read(store, rootPlan(size), size));
      for (let index = 0; index < size; index++) {
        const proof = inclusionCompute(index, size, read(store, inclusionPlan(index, size), size));
        expect(await verifyInclusion(leaves[index]!, index, size, proof, root)).toBe(true);
        if (proof.length > 0) {
          const bad = proof.map((p) => Buffer.from(p));
          bad[0]![0] = bad[0]![0]! ^ 1;
          expect(await verifyInclusion(leaves[index]!, index, size, bad, root)).toBe(false);
        }
      }
    }
  });
});
