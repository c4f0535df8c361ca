import { availableParallelism } from 'node:os';
import { canonicalJson } from '../core/canonical.js';
import { parseStrictJson } from '../core/json.js';
import { RootAccumulator } from './accumulator.js';
import { auditInChunks } from './audit-parallel.js';
import { WorkerHasher } from './audit-pool.js';
import {
  CheckpointCursor,
  fail,
  finish,
  leafMismatch,
  positionProblem,
  type OpenedCheckpoint,
} from './audit-steps.js';
import { sameHash } from './chunk.js';
import { openCheckpoint } from './checkpoint.js';
import { leafHashHex } from './hash.js';
import type { AuditInput, AuditReport, Divergence } from './audit-types.js';

// Below this many entries a verify takes well under a second on one thread.
const PARALLEL_FROM = 2 ** 16;

/**
 * Recomputes every leaf hash and the tree root from stored events and checks every
 * signed checkpoint against the root at its size. Reports the first divergence: an
 * edited, deleted, reordered or inserted row all change a leaf hash, an index or a root.
 */
export async function auditLog(input: AuditInput): Promise<AuditReport> {
  const opened: OpenedCheckpoint[] = [];
  for (const note of input.checkpoints) {
    const cp = openSigned(note, input);
    if ('kind' in cp) return fail(0, 0, opened.length, cp);
    opened.push(cp);
  }
  opened.sort((a, b) => a.size - b.size);
  const total = opened.at(-1)?.size ?? 0;
  const cursor = new CheckpointCursor(opened, input.revoked);
  const early = cursor.checkUpTo(new RootAccumulator());
  if (early) return fail(0, 0, opened.length, early);
  // Re-canonicalising is per entry, in order, so a strict verify stays on this thread.
  const auto =
    input.strict !== true &&
    total >= PARALLEL_FROM &&
    availableParallelism() > 1 &&
    WorkerHasher.available();
  if (input.hasher === null || (input.hasher === undefined && !auto)) {
    return auditEntryByEntry(input, opened, total, cursor);
  }
  const hasher =
    input.hasher ?? new WorkerHasher(Math.min(4, Math.max(1, availableParallelism() - 1)));
  try {
    return await auditInChunks(input, hasher, opened, total, cursor);
  } finally {
    if (input.hasher === undefined) await hasher.close();
  }
}

async function auditEntryByEntry(
  input: AuditInput,
  opened: readonly OpenedCheckpoint[],
  total: number,
  cursor: CheckpointCursor,
): Promise<AuditReport> {
  const acc = new RootAccumulator();
  for await (const page of input.pages)
    for (const e of page) {
      const at = acc.size;
      const misplaced = positionProblem(e, at, total);
      if (misplaced) return fail(at, at, opened.length, misplaced);
      const hex = leafHashHex(e.leaf);
      if (!sameHash(hex, e.leafHash)) return fail(at, at, opened.length, leafMismatch(at));
      if (input.strict === true && !isCanonical(e.leaf)) {
        return fail(at, at, opened.length, {
          kind: 'LEAF_NOT_CANONICAL',
          index: at,
          detail: `entry ${at} is not RFC 8785 canonical JSON`,
        });
      }
      acc.push(Buffer.from(hex, 'hex'));
      const d = cursor.checkUpTo(acc);
      if (d) return fail(acc.size, acc.size, opened.length, d);
      if (acc.size % 10_000 === 0) input.onProgress?.(acc.size, total);
    }
  input.onProgress?.(acc.size, total);
  return finish(acc.size, total, opened.length);
}

/** Opens one checkpoint under the trusted keys, or says why it cannot be trusted. */
function openSigned(note: string, input: AuditInput): OpenedCheckpoint | Divergence {
  try {
    const verifiers = input.keys.map((k) => k.verifier);
    const { checkpoint, verifiedKeys } = openCheckpoint(note, verifiers, { origin: input.origin });
    const signers = input.keys.filter((k) => verifiedKeys.includes(k.verifier));
    return { size: checkpoint.size, root: checkpoint.rootHash, signers };
  } catch (e) {
    const size = /\n(\d+)\n/.exec(note)?.[1];
    return {
      kind: 'CHECKPOINT_SIGNATURE_INVALID',
      index: size === undefined ? 0 : Number(size),
      detail: `the checkpoint${size === undefined ? '' : ` of size ${size}`} is not signed by a trusted key: ${(e as Error).message}`,
    };
  }
}

function isCanonical(leaf: string): boolean {
  try {
    return canonicalJson(parseStrictJson(leaf)) === leaf;
  } catch {
    return false;
  }
}
