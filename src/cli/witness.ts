import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { openCheckpoint } from '../log/checkpoint.js';
import { NoteVerifier } from '../log/note.js';
import { verifyConsistency } from '../log/verify.js';
import { CliError, EXIT, type Client } from './client.js';

interface WitnessState {
  readonly verifierKey: string;
  readonly origin: string;
  readonly size: number;
  readonly root: string;
  readonly note: string;
}

export interface WitnessOutcome {
  readonly status: 'first-seen' | 'unchanged' | 'consistent';
  readonly size: number;
  readonly previousSize: number | null;
  readonly message: string;
}

function save(path: string, state: WitnessState): void {
  // Write then rename, so a crash never leaves a half-written state file.
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

const inconsistent = (message: string, code: string): CliError =>
  new CliError(message, EXIT.inconsistent, code);

/**
 * A witness remembers the last checkpoint it accepted and accepts a new one only
 * with a valid consistency proof (RFC 9162 §2.1.4.2). A smaller tree is a rollback;
 * a different root at the same size, or a failing proof, is a fork.
 */
export async function witness(
  client: Client,
  statePath: string,
  logKey?: string,
): Promise<WitnessOutcome> {
  const prev = existsSync(statePath)
    ? (JSON.parse(readFileSync(statePath, 'utf8')) as WitnessState)
    : null;
  const verifierKey =
    prev?.verifierKey ??
    logKey ??
    (await client.call<string>('GET', '/v1/log/verifier-key')).split('\n')[0]?.trim() ??
    '';
  const note = await client.call<string>('GET', '/v1/log/checkpoint');
  let opened;
  try {
    opened = openCheckpoint(
      note,
      [NoteVerifier.fromVerifierKey(verifierKey)],
      prev ? { origin: prev.origin } : {},
    );
  } catch (e) {
    throw inconsistent(
      `checkpoint does not verify under the pinned key: ${(e as Error).message}`,
      'CHECKPOINT_SIGNATURE_INVALID',
    );
  }
  const cp = opened.checkpoint;
  const next: WitnessState = {
    verifierKey,
    origin: cp.origin,
    size: cp.size,
    root: cp.rootHash.toString('base64'),
    note,
  };
  if (!prev) {
    save(statePath, next);
    return {
      status: 'first-seen',
      size: cp.size,
      previousSize: null,
      message: `pinned ${cp.origin} at size ${cp.size}`,
    };
  }
  if (cp.size < prev.size) {
    throw inconsistent(
      `ROLLBACK: the log shrank from size ${prev.size} to ${cp.size}`,
      'LOG_ROLLBACK',
    );
  }
  if (cp.size === prev.size) {
    if (next.root !== prev.root)
      throw inconsistent(`FORK: two different roots at size ${cp.size}`, 'LOG_FORK');
    return {
      status: 'unchanged',
      size: cp.size,
      previousSize: prev.size,
      message: `unchanged at size ${cp.size}`,
    };
  }
  const { proof } = await client.call<{ proof: string[] }>(
    'GET',
    `/v1/log/proof/consistency?from=${prev.size}&to=${cp.size}`,
  );
  const ok = verifyConsistency(
    prev.size,
    cp.size,
    proof.map((p) => Buffer.from(p, 'base64')),
    Buffer.from(prev.root, 'base64'),
    cp.rootHash,
  );
  if (!ok)
    throw inconsistent(
      `FORK: size ${cp.size} is not consistent with size ${prev.size}`,
      'LOG_FORK',
    );
  save(statePath, next);
  return {
    status: 'consistent',
    size: cp.size,
    previousSize: prev.size,
    message: `consistent: ${prev.size} -> ${cp.size}`,
  };
}
