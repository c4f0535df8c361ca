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
    let hash: Buffer = Buffer.from(leafHash);
    let size = 1;
    while (this.#sizes.length > 0 && this.#sizes[this.#sizes.length - 1] === size) {
      this.#sizes.pop();
      hash = nodeHash(this.#hashes.pop() as Buffer, hash);
      size *= 2;
    }
    this.#hashes.push(hash);
    this.#sizes.push(size);
    this.#size += 1;
  }

  root(): Buffer {
    if (this.#hashes.length === 0) return EMPTY_ROOT;
    let hash = this.#hashes[this.#hashes.length - 1] as Buffer;
    for (let i = this.#hashes.length - 2; i >= 0; i--)
      hash = nodeHash(this.#hashes[i] as Buffer, hash);
    return hash;
  }
}
