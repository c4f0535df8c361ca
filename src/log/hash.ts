/**
 * Merkle tree hashing as defined by RFC 6962 §2.1 and RFC 9162 §2.1.1, with
 * SHA-256 as the hash algorithm.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 */
import { sha256 } from '../core/crypto.js';

/** Length in bytes of every tree hash (SHA-256). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/**
 * The root of the empty tree: `MTH({}) = SHA-256()` (RFC 9162 §2.1.1).
 */
export const EMPTY_ROOT: Buffer = sha256(new Uint8Array(0));

/**
 * The hash of a leaf: `MTH({d(0)}) = SHA-256(0x00 || d(0))` (RFC 9162 §2.1.1).
 *
 * @example
 * ```ts
 * const h = leafHash(Buffer.from(canonicalEventJson, 'utf8'));
 * ```
 */
export function leafHash(data: Uint8Array): Buffer {
  return sha256(Buffer.concat([LEAF_PREFIX, data]));
}

/**
 * The hash of an interior node: `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(Buffer.concat([NODE_PREFIX, left, right]));
}
