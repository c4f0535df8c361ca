import type { ChunkHasher } from './audit-pool.js';
import type { TrustedLogKey } from './trusted-key.js';

/** What a log audit reads and what it reports. */
export interface AuditEntry {
  readonly index: number;
  readonly leaf: string;
  /** Hex of the stored leaf hash. */
  readonly leafHash: string;
}

export type DivergenceKind =
  | 'LEAF_HASH_MISMATCH'
  | 'LEAF_NOT_CANONICAL'
  | 'INDEX_GAP'
  | 'INDEX_OUT_OF_ORDER'
  | 'CHECKPOINT_SIGNATURE_INVALID'
  | 'CHECKPOINT_ROOT_MISMATCH'
  | 'ENTRIES_MISSING'
  | 'ENTRIES_BEYOND_CHECKPOINT';

export interface Divergence {
  readonly kind: DivergenceKind;
  readonly index: number;
  readonly detail: string;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly checkpoints: number;
  readonly size: number;
  readonly divergence: Divergence | null;
}

export interface AuditInput {
  /** Entries in pages, in index order: paging keeps the per-entry cost synchronous. */
  readonly pages: AsyncIterable<readonly AuditEntry[]>;
  /** Signed checkpoint notes, any order. */
  readonly checkpoints: readonly string[];
  /** The keys trusted to sign checkpoints; each checkpoint needs one of them. */
  readonly keys: readonly TrustedLogKey[];
  /**
   * Revocation index of each key revoked in the entries read so far, filled by whoever
   * reads the pages (see `StateReplay`); a checkpoint its only signer signed over a tree
   * holding that key's revocation is refused.
   */
  readonly revoked?: ReadonlyMap<string, number>;
  readonly origin: string;
  readonly onProgress?: (entries: number, total: number) => void;
  /** Also re-canonicalise every leaf (slower; the hashes already bind every byte). */
  readonly strict?: boolean;
  /**
   * Who hashes the leaves: `null` for this thread, entry by entry; a hasher for runs of
   * entries in parallel. By default, worker threads once the log is large enough to
   * repay starting them (and there is a spare core), else this thread.
   */
  readonly hasher?: ChunkHasher | null;
  /** Entries per run handed to the hasher (tests use small ones). */
  readonly chunkSize?: number;
}
