/**
 * Storage-agnostic Merkle tree math (RFC 9162 §2.1) over a store of complete
 * perfect subtrees.
 *
 * The store keeps the hash of every complete perfect subtree, addressed by a
 * {@link NodeId}. Every operation comes as a pair: `*Plan` lists the stored nodes
 * it needs, so a sync (SQLite) or async (PostgreSQL) store can fetch them in one
 * batch read, and `*Compute` turns that read into the result. All plans are
 * O(log n) node ids.
 *
 * Indices are plain JS numbers handled with `Math.floor`, `%`, `*` and `2 ** k`
 * only, so they stay exact up to `Number.MAX_SAFE_INTEGER` (no 32-bit bit ops).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9162#section-2.1
 */
import { LogError } from './errors.js';
import type { NodeHashes, NodeId, Range } from './nodes.js';
import { assertCount, lookup, rangeHash, rangeNodes, splitPoint } from './nodes.js';

export type { AppendResult, NewNode, NodeHashes, NodeId } from './nodes.js';
export {
  appendBatch,
  appendBatchCompute,
  appendBatchPlan,
  appendCompute,
  appendPlan,
} from './append.js';

/** Every range's hash in proof order; the plan is the union of their pieces. */
function planOf(ranges: readonly Range[]): NodeId[] {
  return ranges.flatMap(rangeNodes);
}

function computeOf(ranges: readonly Range[], hashes: NodeHashes): Buffer[] {
  return ranges.map((r) => rangeHash(r, (id) => lookup(hashes, id)));
}

// ---- roots ---------------------------------------------------------------

/** Stored nodes needed for the root of the tree of `size` leaves (at most 53). */
export function rootPlan(size: number): NodeId[] {
  assertCount('size', size);
  return rangeNodes([0, size]);
}

/** MTH(D[0:size]) from the nodes of {@link rootPlan}; `size = 0` gives `EMPTY_ROOT`. */
export function rootCompute(size: number, hashes: NodeHashes): Buffer {
  assertCount('size', size);
  return rangeHash([0, size], (id) => lookup(hashes, id));
}

// ---- inclusion proofs (RFC 9162 §2.1.3.1) ---------------------------------

function inclusionRanges(index: number, size: number): Range[] {
  assertCount('index', index);
  assertCount('size', size);
  if (index >= size) throw new LogError('LOG_RANGE_INVALID', 'index must be less than size');
  // RFC 9162 §2.1.3.1: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) if m < k,
  // else PATH(m - k, D[k:n]) : MTH(D[0:k]). Walk top-down, then reverse.
  const topDown: Range[] = [];
  let begin = 0;
  let end = size;
  while (end - begin > 1) {
    const mid = begin + splitPoint(end - begin);
    if (index < mid) {
      topDown.push([mid, end]);
      end = mid;
    } else {
      topDown.push([begin, mid]);
      begin = mid;
    }
  }
  return topDown.reverse();
}

/** Stored nodes needed for the audit path of leaf `index` in a tree of `size` leaves. */
export function inclusionPlan(index: number, size: number): NodeId[] {
  return planOf(inclusionRanges(index, size));
}

/**
 * The audit path `PATH(index, D[size])` of RFC 9162 §2.1.3.1, leaf-side first.
 * The one non-perfect (right-edge) sibling is folded from its perfect pieces.
 */
export function inclusionCompute(index: number, size: number, hashes: NodeHashes): Buffer[] {
  return computeOf(inclusionRanges(index, size), hashes);
}

// ---- consistency proofs (RFC 9162 §2.1.4.1) --------------------------------

function consistencyRanges(m: number, n: number): Range[] {
  assertCount('m', m);
  assertCount('n', n);
  if (m === 0 || m > n) throw new LogError('LOG_RANGE_INVALID', 'consistency needs 0 < m <= n');
  // RFC 9162 §2.1.4.1: SUBPROOF(m, D[m], true) = {}, SUBPROOF(m, D[m], false) = {MTH(D[m])};
  // m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n]); m > k: SUBPROOF(m-k, D[k:n], false) : MTH(D[0:k]).
  const topDown: Range[] = [];
  let begin = 0;
  let end = n;
  let whole = true;
  while (m !== end) {
    const mid = begin + splitPoint(end - begin);
    if (m <= mid) {
      topDown.push([mid, end]);
      end = mid;
    } else {
      topDown.push([begin, mid]);
      begin = mid;
      whole = false;
    }
  }
  if (!whole) topDown.push([begin, end]);
  return topDown.reverse();
}

/** Stored nodes needed for the consistency proof between sizes `m` and `n`. */
export function consistencyPlan(m: number, n: number): NodeId[] {
  return planOf(consistencyRanges(m, n));
}

/** The consistency proof `PROOF(m, D[n])` of RFC 9162 §2.1.4.1 (empty when `m = n`). */
export function consistencyCompute(m: number, n: number, hashes: NodeHashes): Buffer[] {
  return computeOf(consistencyRanges(m, n), hashes);
}
