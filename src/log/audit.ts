import { canonicalJson } from '../core/canonical.js';
import { constantTimeEqual } from '../core/crypto.js';
import { parseStrictJson } from '../core/json.js';
import { RootAccumulator } from './accumulator.js';
import { openCheckpoint } from './checkpoint.js';
import { leafHashHex } from './hash.js';
import type { NoteVerifier } from './note.js';

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
  readonly verifiers: readonly NoteVerifier[];
  readonly origin: string;
  readonly onProgress?: (entries: number, total: number) => void;
  /** Also re-canonicalise every leaf (slower; the hashes already bind every byte). */
  readonly strict?: boolean;
}

/**
 * Recomputes every leaf hash and the tree root from stored events and checks every
 * signed checkpoint against the root at its size. Reports the first divergence: an
 * edited, deleted, reordered or inserted row all change a leaf hash, an index or a root.
 */
export async function auditLog(input: AuditInput): Promise<AuditReport> {
  const opened: Array<{ size: number; root: Buffer }> = [];
  for (const note of input.checkpoints) {
    try {
      const { checkpoint } = openCheckpoint(note, input.verifiers, { origin: input.origin });
      opened.push({ size: checkpoint.size, root: checkpoint.rootHash });
    } catch (e) {
      return fail(0, 0, opened.length, {
        kind: 'CHECKPOINT_SIGNATURE_INVALID',
        index: 0,
        detail: (e as Error).message,
      });
    }
  }
  opened.sort((a, b) => a.size - b.size);
  const total = opened.at(-1)?.size ?? 0;
  const acc = new RootAccumulator();
  let next = 0;
  const checkUpTo = (size: number): Divergence | null => {
    while (next < opened.length && (opened[next] as { size: number }).size <= size) {
      const cp = opened[next] as { size: number; root: Buffer };
      next += 1;
      if (cp.size === size && !constantTimeEqual(acc.root(), cp.root)) {
        return {
          kind: 'CHECKPOINT_ROOT_MISMATCH',
          index: size,
          detail: `the recomputed root of the first ${size} entries differs from the signed checkpoint`,
        };
      }
    }
    return null;
  };
  const early = checkUpTo(0);
  if (early) return fail(0, 0, opened.length, early);
  for await (const page of input.pages)
    for (const e of page) {
      const at = acc.size;
      if (e.index !== at) {
        const kind = e.index > at ? 'INDEX_GAP' : 'INDEX_OUT_OF_ORDER';
        return fail(at, at, opened.length, {
          kind,
          index: at,
          detail: `expected entry ${at}, found ${e.index}`,
        });
      }
      if (at >= total) {
        return fail(at, at, opened.length, {
          kind: 'ENTRIES_BEYOND_CHECKPOINT',
          index: at,
          detail: `entry ${at} is not covered by any signed checkpoint`,
        });
      }
      const hex = leafHashHex(e.leaf);
      const hash = Buffer.from(hex, 'hex');
      // Stored hashes are lowercase hex, so the string test settles nearly every entry;
      // the byte compare keeps any other spelling of the same hash acceptable.
      if (hex !== e.leafHash && !constantTimeEqual(hash, Buffer.from(e.leafHash, 'hex'))) {
        return fail(at, at, opened.length, {
          kind: 'LEAF_HASH_MISMATCH',
          index: at,
          detail: `entry ${at} does not hash to its stored leaf hash`,
        });
      }
      if (input.strict === true && !isCanonical(e.leaf)) {
        return fail(at, at, opened.length, {
          kind: 'LEAF_NOT_CANONICAL',
          index: at,
          detail: `entry ${at} is not RFC 8785 canonical JSON`,
        });
      }
      acc.push(hash);
      const d = checkUpTo(acc.size);
      if (d) return fail(acc.size, acc.size, opened.length, d);
      if (acc.size % 10_000 === 0) input.onProgress?.(acc.size, total);
    }
  input.onProgress?.(acc.size, total);
  if (acc.size < total) {
    return fail(acc.size, acc.size, opened.length, {
      kind: 'ENTRIES_MISSING',
      index: acc.size,
      detail: `the log holds ${acc.size} entries but a checkpoint signs ${total}`,
    });
  }
  return { ok: true, entries: acc.size, checkpoints: opened.length, size: total, divergence: null };
}

function isCanonical(leaf: string): boolean {
  try {
    return canonicalJson(parseStrictJson(leaf)) === leaf;
  } catch {
    return false;
  }
}

function fail(
  entries: number,
  size: number,
  checkpoints: number,
  divergence: Divergence,
): AuditReport {
  return { ok: false, entries, checkpoints, size, divergence };
}
