/**
 * Merkle tree hashing as defined by RFC 6962 §2.1 and RFC 9162 §2.1.1, with
 * SHA-256 as the hash algorithm.
 *
 * Hashes go through one-shot `crypto.hash` into small pooled buffers: a
 * `createHash` object per node, plus the `Buffer.concat` of its input, cost
 * several times the SHA-256 itself, and a log verify or a batch append hashes
 * millions of nodes. (`crypto.hash(…, 'buffer')` is slow on Node 20, so the
 * digest comes back as a binary (latin1) string, one byte per char, and is written out.)
 *
 * @see https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 */
import { hash } from 'node:crypto';

/** Length in bytes of every tree hash (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

function digest(data: Uint8Array | string): Buffer {
  const out = Buffer.allocUnsafe(HASH_SIZE);
  out.write(hash('sha256', data, 'binary'), 0, 'latin1');
  return out;
}

/**
 * The root of the empty tree: `MTH({}) = SHA-256()` (RFC 9162 §2.1.1).
 */
export const EMPTY_ROOT: Buffer = Buffer.from(digest(new Uint8Array(0)));

// Hashing is synchronous, so one scratch input per kind of node is enough. Leaves
// longer than the leaf scratch (events are a few hundred bytes) are copied instead.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, NODE_PREFIX);
const leafInput = Buffer.alloc(4096, LEAF_PREFIX);

/**
 * The hash of a leaf: `MTH({d(0)}) = SHA-256(0x00 || d(0))` (RFC 9162 §2.1.1).
 *
 * @example
 * ```ts
 * const h = leafHash(Buffer.from(canonicalEventJson, 'utf8'));
 * ```
 */
export function leafHash(data: Uint8Array): Buffer {
  if (data.length >= leafInput.length) {
    return digest(Buffer.concat([leafInput.subarray(0, 1), data]));
  }
  leafInput.set(data, 1);
  return digest(leafInput.subarray(0, data.length + 1));
}

/**
 * Hex of the leaf hash of the UTF-8 encoding of `leaf`, for checking stored
 * leaves: a U+0000 prefix encodes to the single 0x00 byte, so no copy is made.
 */
export function leafHashHex(leaf: string): string {
  return hash('sha256', `\u0000${leaf}`, 'hex');
}

/**
 * The hash of an interior node: `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    return digest(Buffer.concat([nodeInput.subarray(0, 1), left, right]));
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return digest(nodeInput);
}

/**
 * Writes the hash of the node whose children sit side by side at `src[srcOffset..+64]`
 * to `dst[dstOffset..+32]`: whole subtrees are folded in place with no allocation.
 * `dst` may be `src` as long as the output does not land beyond the input.
 */
export function nodeHashInto(src: Buffer, srcOffset: number, dst: Buffer, dstOffset: number): void {
  src.copy(nodeInput, 1, srcOffset, srcOffset + 2 * HASH_SIZE);
  dst.write(hash('sha256', nodeInput, 'binary'), dstOffset, 'latin1');
}
