/**
 * RFC 6962 / RFC 9162 §2.1 Merkle tree hashing and the inclusion proof check
 * (§2.1.3.2), with `crypto.subtle`: leaf = SHA-256(0x00 ‖ leaf), node =
 * SHA-256(0x01 ‖ left ‖ right). A port of src/log/verify.ts for the browser; it never
 * throws on malformed input, it fails.
 */
import { bytesEqual, concat, sha256, utf8 } from './bytes.js';

export const HASH_SIZE = 32;
const LEAF = new Uint8Array([0x00]);
const NODE = new Uint8Array([0x01]);

export async function leafHash(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(concat(LEAF, data));
}

/** The leaf hash of a log entry's text (its RFC 8785 canonical event JSON, as UTF-8). */
export async function leafHashOfText(leaf: string): Promise<Uint8Array<ArrayBuffer>> {
  return leafHash(utf8(leaf));
}

export async function nodeHash(
  left: Uint8Array,
  right: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(concat(NODE, left, right));
}

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);

/** The root an audit path implies (RFC 9162 §2.1.3.2), or `undefined` when it cannot. */
export async function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Promise<Uint8Array | undefined> {
  if (!isCount(index) || !isCount(size) || index >= size) return undefined;
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return undefined;
  if (proof.length > 63) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return undefined;
    if (odd(fn) || fn === sn) {
      r = await nodeHash(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/** Whether `proof` shows `leaf` (a leaf hash) at `index` of the tree of `size` with `root`. */
export async function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<boolean> {
  const computed = await rootFromInclusionProof(leaf, index, size, proof);
  return computed !== undefined && root.length === HASH_SIZE && bytesEqual(computed, root);
}
