import { LogError } from './errors.js';
import { EMPTY_ROOT, nodeHash } from './hash.js';

/**
 * A streaming RFC 9162 tree head: the compact range of perfect subtrees over the
 * leaves pushed so far. `root()` at any point equals MTH of those leaves, so a
 * verifier can check every checkpoint in one pass with O(log n) memory.
 */
export class RootAccumulator {
  // Perfect subtree hashes, largest (leftmost) first, with their sizes.
  readonly #hashes: Buffer[] = [];
  readonly #sizes: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(leafHash: Uint8Array): void {
    this.pushSubtree(leafHash, 1);
  }

  /**
   * Appends the root of a perfect subtree of `size` (a power of two) leaves. It must be
   * aligned: the leaves pushed so far are a multiple of `size`, as with the pieces of
   * `alignedPieces`, so the stack stays the compact range of the new size.
   */
  pushSubtree(root: Uint8Array, size: number): void {
    if (this.#size % size !== 0) {
      throw new LogError('LOG_RANGE_INVALID', `a subtree of ${size} leaves is not aligned`);
    }
    let hash: Buffer = Buffer.from(root);
    let merged = size;
    while (this.#sizes.length > 0 && this.#sizes[this.#sizes.length - 1] === merged) {
      this.#sizes.pop();
      hash = nodeHash(this.#hashes.pop() as Buffer, hash);
      merged *= 2;
    }
    this.#hashes.push(hash);
    this.#sizes.push(merged);
    this.#size += size;
  }

  root(): Buffer {
    if (this.#hashes.length === 0) return EMPTY_ROOT;
    let hash = this.#hashes[this.#hashes.length - 1] as Buffer;
    for (let i = this.#hashes.length - 2; i >= 0; i--)
      hash = nodeHash(this.#hashes[i] as Buffer, hash);
    return hash;
  }
}
