import { LogError } from '../log/errors.js';
import {
  consistencyCompute,
  consistencyPlan,
  inclusionCompute,
  inclusionPlan,
} from '../log/tree.js';
import { storedVerifierKeys } from './log-keys.js';
import type { LogEntry, StoredCheckpoint } from './ports/log.js';
import type { ServiceContext } from './context.js';
import type { ReadPorts } from './ports/store.js';
import type { VerifierKeys } from '../trust/trust-file.js';

export const MAX_ENTRIES_PER_CALL = 1000;

export async function latestCheckpoint(
  repo: Pick<ReadPorts, 'log' | 'keys'>,
): Promise<StoredCheckpoint> {
  const cp = await repo.log.latestCheckpoint();
  if (!cp) throw new LogError('LOG_EMPTY', 'no checkpoint has been signed yet');
  return cp;
}

function assertWithin(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new LogError('LOG_RANGE_INVALID', `${name} must be an integer from 0 to ${max}`);
  }
}

/** Entries [start, end) of the signed tree, at most {@link MAX_ENTRIES_PER_CALL}. */
export async function readEntries(
  repo: Pick<ReadPorts, 'log' | 'keys'>,
  start: number,
  end: number,
): Promise<LogEntry[]> {
  const size = (await latestCheckpoint(repo)).size;
  assertWithin('start', start, size);
  assertWithin('end', end, size);
  if (end <= start) throw new LogError('LOG_RANGE_INVALID', 'end must be greater than start');
  return repo.log.entries(start, Math.min(end, start + MAX_ENTRIES_PER_CALL));
}

/**
 * Every key that ever signed for the log, oldest first, with its state and the log index
 * of its revocation: what a verifier pins to check checkpoints across rotations.
 */
export async function logVerifierKeys(
  ctx: Pick<ServiceContext, 'store' | 'integrateLog'>,
  origin: string,
): Promise<VerifierKeys> {
  // A revocation's position exists once its event is in the tree: integrate first.
  await ctx.integrateLog();
  const repo = ctx.store.read;
  const records = await repo.keys.list();
  const revokedAt = await repo.log.keyRevocationIndices(
    records.filter((r) => r.state === 'revoked').map((r) => r.kid),
  );
  const encoded = storedVerifierKeys(records, origin);
  return {
    origin,
    keys: records.map((r, i) => ({
      kid: r.kid,
      verifierKey: encoded[i] as string,
      state: r.state,
      createdAt: r.createdAt,
      revokedAt: r.revokedAt,
      revokedAtIndex: revokedAt.get(r.kid) ?? null,
    })),
  };
}

/** Stored checkpoints of size >= `start`, smallest first, at most {@link MAX_ENTRIES_PER_CALL}. */
export async function checkpointNotes(
  repo: Pick<ReadPorts, 'log' | 'keys'>,
  start: number,
  limit: number,
): Promise<{ size: number; note: string }[]> {
  assertWithin('limit', limit, MAX_ENTRIES_PER_CALL);
  const rows = await repo.log.checkpointsFrom(start, Math.max(1, limit));
  return rows.map((c) => ({ size: c.size, note: c.note }));
}

/** The RFC 9162 §2.1.3 inclusion proof of leaf `index` in the tree of `size` leaves. */
export async function inclusionProof(
  repo: Pick<ReadPorts, 'log' | 'keys'>,
  index: number,
  size: number,
): Promise<{ index: number; size: number; leafHash: string; proof: string[] }> {
  assertWithin('size', size, (await latestCheckpoint(repo)).size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new LogError('LOG_RANGE_INVALID', 'index must be below size');
  }
  const [leaf] = await repo.log.entries(index, index + 1);
  const proof = inclusionCompute(index, size, await repo.log.nodes(inclusionPlan(index, size)));
  return {
    index,
    size,
    leafHash: Buffer.from(leaf?.leafHash ?? '', 'hex').toString('base64'),
    proof: proof.map((h) => h.toString('base64')),
  };
}

/** The RFC 9162 §2.1.4 consistency proof between two tree sizes. */
export async function consistencyProof(
  repo: Pick<ReadPorts, 'log' | 'keys'>,
  from: number,
  to: number,
): Promise<{ from: number; to: number; proof: string[] }> {
  assertWithin('to', to, (await latestCheckpoint(repo)).size);
  if (!Number.isSafeInteger(from) || from < 1 || from > to) {
    throw new LogError('LOG_RANGE_INVALID', 'from must be between 1 and to');
  }
  const proof = consistencyCompute(from, to, await repo.log.nodes(consistencyPlan(from, to)));
  return { from, to, proof: proof.map((h) => h.toString('base64')) };
}
