/**
 * Node addressing and the shared folding helpers behind `tree.ts` and `append.ts`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9162#section-2.1.1
 */
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hash.js';
import { LogError } from './errors.js';

/** A complete perfect subtree: level 0 holds leaves; `(L, i)` covers leaves `[i*2^L, (i+1)*2^L)`. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Stored node hashes keyed by {@link nodeKey}, as returned by one batch read. */
export type NodeHashes = ReadonlyMap<string, Uint8Array>;

/** A node that became complete when leaves were appended, ready to be stored. */
export interface NewNode {
  readonly id: NodeId;
  readonly hash: Buffer;
}

/** The result of appending a batch of leaves. */
export interface AppendResult {
  /** Every newly complete node, leaves (level 0) included, in creation order. */
  readonly nodes: NewNode[];
  /** The tree size after the batch. */
  readonly size: number;
  /** The root hash of the tree at `size` (RFC 9162 §2.1.1). */
  readonly root: Buffer;
}

/** The map key for a node: `"<level>/<index>"`. */
export function nodeKey(id: NodeId): string {
  return `${id.level}/${id.index}`;
}

/** @internal A leaf range `[begin, end)`. */
export type Range = readonly [begin: number, end: number];

/** @internal */
export function assertCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LogError('LOG_RANGE_INVALID', `${name} must be a non-negative safe integer`);
  }
}

/** @internal The largest power of two strictly less than `n` (n > 1), RFC 9162 §2.1.1 `k`. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * @internal The perfect subtrees that make up `[begin, end)`, largest first. Every range
 * produced by the RFC 9162 recursions starts at a multiple of a power of two at
 * least as large as its length, so each piece is aligned.
 */
export function rangeNodes([begin, end]: Range): NodeId[] {
  const out: NodeId[] = [];
  let pos = begin;
  while (pos < end) {
    let width = 1;
    let level = 0;
    while (width * 2 <= end - pos) {
      width *= 2;
      level += 1;
    }
    if (pos % width !== 0) throw new LogError('LOG_RANGE_INVALID', 'range is not aligned');
    out.push({ level, index: pos / width });
    pos += width;
  }
  return out;
}

/** @internal Reads a node from a batch read, or throws `LOG_INCONSISTENT`. */
export function lookup(hashes: NodeHashes, id: NodeId): Uint8Array {
  const hash = hashes.get(nodeKey(id));
  if (hash === undefined || hash.length !== HASH_SIZE) {
    throw new LogError('LOG_INCONSISTENT', `node ${nodeKey(id)} is missing from the read`, {
      details: { level: id.level, index: id.index },
    });
  }
  return hash;
}

/** @internal MTH(D[begin:end]): fold the perfect pieces from the right (RFC 9162 §2.1.1). */
export function rangeHash(range: Range, get: (id: NodeId) => Uint8Array): Buffer {
  const ids = rangeNodes(range);
  const last = ids.at(-1);
  if (last === undefined) return Buffer.from(EMPTY_ROOT);
  let acc: Buffer = Buffer.from(get(last));
  for (let i = ids.length - 2; i >= 0; i--) acc = nodeHash(get(ids[i]!), acc);
  return acc;
}
