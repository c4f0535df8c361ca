/**
 * The checks a log verify makes, shared by the entry-by-entry and the parallel pass so
 * that both report the same first divergence, with the same index and detail.
 */
import { constantTimeEqual } from '../core/crypto.js';
import type { RootAccumulator } from './accumulator.js';
import type { AuditEntry, AuditReport, Divergence } from './audit-types.js';
import { revocationIndex, signedAfterRevocation, type TrustedLogKey } from './trusted-key.js';

export interface OpenedCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  /** The trusted keys whose signatures on it verified. */
  readonly signers: readonly TrustedLogKey[];
}

/** Walks the checkpoints (sorted by size) as the recomputed tree grows past them. */
export class CheckpointCursor {
  #next = 0;

  /**
   * `revoked` holds the revocation index of each key revoked in the entries read so far:
   * by the time the tree reaches a checkpoint's size, every revocation inside it is known.
   */
  constructor(
    private readonly opened: readonly OpenedCheckpoint[],
    private readonly revoked?: ReadonlyMap<string, number>,
  ) {}

  /** The smallest checkpoint size above `size`, if any: a pass must stop there to check it. */
  nextSizeAbove(size: number): number | undefined {
    // Binary search: a server signs a checkpoint per integrated batch, so there can be many.
    let lo = 0;
    let hi = this.opened.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((this.opened[mid] as OpenedCheckpoint).size > size) hi = mid;
      else lo = mid + 1;
    }
    return this.opened[lo]?.size;
  }

  /** Checks every checkpoint of exactly the accumulated size, and passes all below it. */
  checkUpTo(acc: RootAccumulator): Divergence | null {
    const size = acc.size;
    while (
      this.#next < this.opened.length &&
      (this.opened[this.#next] as OpenedCheckpoint).size <= size
    ) {
      const cp = this.opened[this.#next] as OpenedCheckpoint;
      this.#next += 1;
      const late = this.#lateSignature(cp);
      if (late) return late;
      if (cp.size === size && !constantTimeEqual(acc.root(), cp.root)) {
        return {
          kind: 'CHECKPOINT_ROOT_MISMATCH',
          index: size,
          detail: `the recomputed root of the first ${size} entries differs from the signed checkpoint`,
        };
      }
    }
    return null;
  }

  /** A checkpoint whose every trusted signer had been revoked inside the tree it signs. */
  #lateSignature(cp: OpenedCheckpoint): Divergence | null {
    const late = (k: TrustedLogKey): boolean => signedAfterRevocation(k, cp.size, this.revoked);
    if (cp.signers.length === 0 || !cp.signers.every(late)) return null;
    const key = cp.signers[0];
    const at = key === undefined ? undefined : revocationIndex(key, this.revoked);
    return {
      kind: 'CHECKPOINT_SIGNATURE_INVALID',
      index: cp.size,
      detail: `the checkpoint of size ${cp.size} was signed by key ${key?.kid ?? '?'} after its revocation at log index ${at ?? '?'}`,
    };
  }
}

/** What is wrong with `e` standing at position `at` of a log whose checkpoints sign `total`. */
export function positionProblem(e: AuditEntry, at: number, total: number): Divergence | null {
  if (e.index !== at) {
    return {
      kind: e.index > at ? 'INDEX_GAP' : 'INDEX_OUT_OF_ORDER',
      index: at,
      detail: `expected entry ${at}, found ${e.index}`,
    };
  }
  if (at >= total) {
    return {
      kind: 'ENTRIES_BEYOND_CHECKPOINT',
      index: at,
      detail: `entry ${at} is not covered by any signed checkpoint`,
    };
  }
  return null;
}

export function leafMismatch(at: number): Divergence {
  return {
    kind: 'LEAF_HASH_MISMATCH',
    index: at,
    detail: `entry ${at} does not hash to its stored leaf hash`,
  };
}

/** The verdict once every entry has been read and hashed. */
export function finish(entries: number, total: number, checkpoints: number): AuditReport {
  if (entries < total) {
    return fail(entries, entries, checkpoints, {
      kind: 'ENTRIES_MISSING',
      index: entries,
      detail: `the log holds ${entries} entries but a checkpoint signs ${total}`,
    });
  }
  return { ok: true, entries, checkpoints, size: total, divergence: null };
}

export function fail(
  entries: number,
  size: number,
  checkpoints: number,
  divergence: Divergence,
): AuditReport {
  return { ok: false, entries, checkpoints, size, divergence };
}
