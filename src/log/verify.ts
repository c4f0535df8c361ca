/**
 * Pure verifiers for RFC 9162 inclusion and consistency proofs. They never throw
 * on malformed input: a bad size, index or proof simply fails verification.
 *
 * Shifts are done with `Math.floor(x / 2)` and parity with `x % 2`, so sizes up
 * to `Number.MAX_SAFE_INTEGER` are exact (no 32-bit bit operators).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
 * @see https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.2
 */
import { constantTimeEqual } from '../core/crypto.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hash.js';

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function isProof(proof: readonly unknown[]): proof is readonly Uint8Array[] {
  return Array.isArray(proof) && proof.every(isHash);
}

const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/**
 * Recomputes the root implied by an audit path (RFC 9162 §2.1.3.2), or
 * `undefined` when the inputs cannot form a valid proof.
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Buffer | undefined {
  // Step 1: leaf_index must be below tree_size.
  if (!isCount(index) || !isCount(size) || index >= size) return undefined;
  if (!isHash(leafHash) || !isProof(proof)) return undefined;
  // Step 2-3: fn = leaf_index, sn = tree_size - 1, r = hash.
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  // Step 4: fold every element of inclusion_path.
  for (const p of proof) {
    if (sn === 0) return undefined; // 4a
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r); // 4b: HASH(0x01 || p || r)
      // If LSB(fn) is not set, shift both until it is or fn is 0.
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p); // 4b: HASH(0x01 || r || p)
    }
    fn = half(fn); // 4c
    sn = half(sn);
  }
  // Step 5: sn must be 0 (the proof was not truncated).
  return sn === 0 ? r : undefined;
}

/**
 * Whether `proof` proves `leafHash` is leaf `index` of the tree of `size` leaves
 * whose root is `root` (RFC 9162 §2.1.3.2).
 *
 * @example
 * ```ts
 * if (!verifyInclusion(leafHash(entry), 5, 8, proof, checkpoint.rootHash)) reject();
 * ```
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  return computed !== undefined && isHash(root) && constantTimeEqual(computed, root);
}

/**
 * Whether `proof` shows the tree of `m` leaves with root `rootM` is a prefix of
 * the tree of `n` leaves with root `rootN` (RFC 9162 §2.1.4.2).
 *
 * `m = n` needs an empty proof and equal roots. `m = 0` needs an empty proof and
 * `rootM` equal to the empty-tree root: every tree extends the empty tree.
 */
export function verifyConsistency(
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
  rootN: Uint8Array,
): boolean {
  if (!isCount(m) || !isCount(n) || m > n) return false;
  if (!isHash(rootM) || !isHash(rootN) || !isProof(proof)) return false;
  if (m === 0) return proof.length === 0 && constantTimeEqual(rootM, EMPTY_ROOT);
  if (m === n) return proof.length === 0 && constantTimeEqual(rootM, rootN);
  // Step 1: an empty consistency_path fails.
  if (proof.length === 0) return false;
  // Step 2: if first is an exact power of 2, prepend first_hash.
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  // Step 3: fn = first - 1, sn = second - 1.
  let fn = m - 1;
  let sn = n - 1;
  // Step 4: right-shift both while LSB(fn) is set.
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5: fr = sr = consistency_path[0].
  const [first, ...rest] = path;
  if (first === undefined) return false;
  let fr: Buffer = Buffer.from(first);
  let sr: Buffer = Buffer.from(first);
  // Step 6: fold every subsequent element.
  for (const c of rest) {
    if (sn === 0) return false; // 6a
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr); // 6b
      sr = nodeHash(c, sr);
      // If LSB(fn) is not set, shift both until it is or fn is 0.
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c); // 6b: HASH(0x01 || sr || c)
    }
    fn = half(fn); // 6c
    sn = half(sn);
  }
  // Step 7: both roots match and sn reached 0.
  return sn === 0 && constantTimeEqual(fr, rootM) && constantTimeEqual(sr, rootN);
}

function isPowerOfTwo(x: number): boolean {
  let v = x;
  while (v > 1 && v % 2 === 0) v /= 2;
  return v === 1;
}
