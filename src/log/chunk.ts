/**
 * The leaf-hashing half of a log verify, for one contiguous run of entries: pure,
 * so that it runs the same in a worker thread or in the caller's.
 *
 * A run travels as bytes in buffers of its own, so that posting it to a worker moves
 * them instead of copying a string per entry: each leaf is stored as `0x00 || UTF-8`
 * (the RFC 9162 leaf hash input, hashed where it lies) and each stored leaf hash as
 * its 32 bytes.
 *
 * A run `[begin, end)` is cut into the aligned perfect subtrees of RFC 9162 §2.1.1
 * (each of `2^k` leaves starting at a multiple of `2^k`); their roots compose, in
 * order, into the root of any prefix that ends at `end`.
 */
import { constantTimeEqual } from '../core/crypto.js';
import { HASH_SIZE, nodeHashInto } from './hash.js';
import { hash } from 'node:crypto';

export interface Chunk {
  readonly begin: number;
  readonly count: number;
  /**
   * Where the run's segments end, ascending, the last at `begin + count`: every
   * checkpoint size inside the run, so that the root there can be checked.
   */
  readonly cuts: readonly number[];
  /** `0x00 || leaf` for each entry, back to back. */
  readonly leaves: Uint8Array;
  /** Where each entry's `0x00 || leaf` ends in `leaves`. */
  readonly ends: Uint32Array;
  /** The stored leaf hashes, 32 bytes each; `valid[i]` is 0 where one was not 64 hex digits. */
  readonly stored: Uint8Array;
  readonly valid: Uint8Array;
}

export interface ChunkResult {
  readonly begin: number;
  /** The first entry whose leaf does not hash to its stored leaf hash, if any. */
  readonly mismatch: number | null;
  /**
   * The roots of {@link alignedPieces} of each segment, 32 bytes each, in order: of
   * every segment before the mismatch, if there is one.
   */
  readonly roots: Uint8Array;
  /** The run's leaves buffer, handed back for the next run to fill. */
  readonly leaves: Uint8Array;
}

/**
 * Whether the stored hex spells the hash that `hex` (lowercase) spells. Stored hashes
 * are lowercase, so the string test settles nearly every entry; the byte compare
 * keeps any other spelling of the same hash acceptable.
 */
export function sameHash(hex: string, stored: string): boolean {
  return hex === stored || constantTimeEqual(Buffer.from(hex, 'hex'), Buffer.from(stored, 'hex'));
}

/** Packs entries into a {@link Chunk} as they are read. */
export class ChunkBuilder {
  #leaves: Buffer;
  #used = 0;
  readonly #ends: number[] = [];
  readonly #stored: string[] = [];

  /**
   * `reuse`: the leaves buffer of a finished run (see {@link ChunkResult.leaves}). Fresh
   * memory costs a page fault per 4 KiB on first write, more than encoding the leaves.
   */
  constructor(
    readonly begin: number,
    reuse?: Uint8Array,
  ) {
    this.#leaves = reuse ? Buffer.from(reuse.buffer) : Buffer.allocUnsafeSlow(1 << 16);
  }

  get count(): number {
    return this.#ends.length;
  }

  add(leaf: string, leafHash: string): void {
    // A UTF-16 unit takes at most 3 UTF-8 bytes; grow before writing, never mid-leaf.
    if (this.#leaves.length - this.#used < 1 + 3 * leaf.length) {
      const grown = Buffer.allocUnsafeSlow(2 * (this.#leaves.length + 3 * leaf.length));
      this.#leaves.copy(grown, 0, 0, this.#used);
      this.#leaves = grown;
    }
    this.#leaves[this.#used] = 0x00;
    this.#used += 1 + this.#leaves.write(leaf, this.#used + 1, 'utf8');
    this.#ends.push(this.#used);
    this.#stored.push(leafHash);
  }

  build(cuts: readonly number[]): Chunk {
    const count = this.count;
    const stored = new Uint8Array(count * HASH_SIZE);
    const valid = new Uint8Array(count);
    const out = Buffer.from(stored.buffer);
    this.#stored.forEach((hex, i) => {
      valid[i] = decodeInto(hex, out, i * HASH_SIZE) === HASH_SIZE ? 1 : 0;
    });
    // allocUnsafeSlow: the builder's own buffer, never the shared pool, so it can be handed over.
    const leaves = this.#leaves.subarray(0, this.#used);
    return {
      begin: this.begin,
      count,
      cuts,
      leaves,
      ends: Uint32Array.from(this.#ends),
      stored,
      valid,
    };
  }
}

/**
 * Decodes hex as `Buffer.from(hex, 'hex')` does (up to the first bad digit, a last odd
 * digit ignored) and writes it at `at` when it makes one hash; returns its length.
 */
function decodeInto(hex: string, out: Buffer, at: number): number {
  if (hex.length === 2 * HASH_SIZE) return out.write(hex, at, HASH_SIZE, 'hex');
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length === HASH_SIZE) bytes.copy(out, at);
  return bytes.length;
}

/** The buffers a chunk or its result can hand over to another thread instead of copying. */
export function transferables(x: Chunk | ChunkResult): ArrayBuffer[] {
  const views = 'ends' in x ? [x.leaves, x.ends, x.stored, x.valid] : [x.roots, x.leaves];
  return views.filter((v) => v.byteLength > 0).map((v) => v.buffer as ArrayBuffer);
}

/** Leaf counts of the aligned perfect subtrees that make up `[begin, end)`, left to right. */
export function alignedPieces(begin: number, end: number): number[] {
  const out: number[] = [];
  for (let pos = begin; pos < end;) {
    let width = 1;
    while (pos % (width * 2) === 0 && pos + width * 2 <= end) width *= 2;
    out.push(width);
    pos += width;
  }
  return out;
}

/**
 * Checks every leaf of `chunk` against its stored hash and folds the aligned subtrees
 * of each segment, segment by segment, stopping at the first mismatch.
 */
export function hashChunk(chunk: Chunk): ChunkResult {
  const { begin, count, ends, valid, cuts } = chunk;
  const leaves = Buffer.from(chunk.leaves.buffer, chunk.leaves.byteOffset, chunk.leaves.byteLength);
  const stored = Buffer.from(chunk.stored.buffer, chunk.stored.byteOffset, chunk.stored.byteLength);
  const level = Buffer.allocUnsafe(count * HASH_SIZE);
  const pieces = cuts.map((cut, s) =>
    alignedPieces(s === 0 ? begin : (cuts[s - 1] as number), cut),
  );
  const roots = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0) * HASH_SIZE);
  const done = (mismatch: number | null, written: number): ChunkResult => ({
    begin,
    mismatch,
    roots: roots.subarray(0, written * HASH_SIZE),
    leaves: chunk.leaves,
  });
  let i = 0;
  let written = 0;
  for (let s = 0; s < cuts.length; s++) {
    let first = i;
    for (const limit = (cuts[s] as number) - begin; i < limit; i++) {
      const at = i * HASH_SIZE;
      const from = i === 0 ? 0 : (ends[i - 1] as number);
      level.write(hash('sha256', leaves.subarray(from, ends[i]), 'binary'), at, 'latin1');
      if (valid[i] !== 1 || level.compare(stored, at, at + HASH_SIZE, at, at + HASH_SIZE) !== 0) {
        return done(begin + i, written);
      }
    }
    for (const width of pieces[s] as number[]) {
      // Fold the piece in place, halving its width each round, until one root is left.
      for (let w = width; w > 1; w /= 2) {
        for (let j = 0; j < w / 2; j++) {
          nodeHashInto(level, (first + 2 * j) * HASH_SIZE, level, (first + j) * HASH_SIZE);
        }
      }
      roots.set(level.subarray(first * HASH_SIZE, (first + 1) * HASH_SIZE), written * HASH_SIZE);
      written += 1;
      first += width;
    }
  }
  return done(null, written);
}
