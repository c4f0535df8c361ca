import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { openCheckpoint } from '../log/checkpoint.js';
import { NoteVerifier } from '../log/note.js';
import { verifyConsistency } from '../log/verify.js';
import type { VerifierKeys } from '../trust/trust-file.js';
import type { CountersignClient } from '../client/index.js';
import { CliError, EXIT } from './errors.js';

interface WitnessState {
  /** The pinned C2SP verifier keys: the key history at first use, or as given. */
  readonly verifierKeys: readonly string[];
  /**
   * For each key, the leaf index of its `key.revoked` event, or null: a key revoked at N
   * vouches for trees of at most N leaves. Absent in state files written before.
   */
  readonly revokedAtIndex?: readonly (number | null)[];
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

/** Reads a state file, also one written before the witness pinned a key history. */
function readState(path: string): WitnessState {
  let raw: WitnessState & { verifierKey?: string };
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as WitnessState & { verifierKey?: string };
  } catch (e) {
    // Not a failure of the server: the file given to --state is not one this witness wrote.
    throw new CliError(
      `cannot read the witness state ${path}: ${(e as Error).message}`,
      EXIT.usage,
    );
  }
  const keys = raw.verifierKeys ?? (raw.verifierKey === undefined ? [] : [raw.verifierKey]);
  return { ...raw, verifierKeys: keys };
}

/** A pinned verifier key and where its revocation stands in the log. */
export interface WitnessPin {
  readonly verifierKey: string;
  readonly revokedAtIndex: number | null;
}

/** Every key the server has signed the log with, as it publishes them (trust on first use). */
async function publishedKeys(client: CountersignClient): Promise<WitnessPin[]> {
  const listed = await client.request<VerifierKeys>('GET', '/v1/log/verifier-keys');
  return listed.keys.map((k) => ({ verifierKey: k.verifierKey, revokedAtIndex: k.revokedAtIndex }));
}

/** Each pinned key with the earliest revocation any source knows of it. */
function withRevocations(pins: readonly WitnessPin[], known: readonly WitnessPin[]): WitnessPin[] {
  return pins.map((p) => {
    const at = [p, ...known.filter((k) => k.verifierKey === p.verifierKey)]
      .map((k) => k.revokedAtIndex)
      .filter((n): n is number => n !== null);
    return { verifierKey: p.verifierKey, revokedAtIndex: at.length > 0 ? Math.min(...at) : null };
  });
}

const pinsOf = (state: WitnessState): WitnessPin[] =>
  state.verifierKeys.map((verifierKey, i) => ({
    verifierKey,
    revokedAtIndex: state.revokedAtIndex?.[i] ?? null,
  }));

const inconsistent = (message: string, code: string): CliError =>
  new CliError(message, EXIT.inconsistent, code);

/**
 * A witness remembers the last checkpoint it accepted and accepts a new one only
 * with a valid consistency proof (RFC 9162 §2.1.4.2). A smaller tree is a rollback;
 * a different root at the same size, or a failing proof, is a fork.
 */
export async function witness(
  client: CountersignClient,
  statePath: string,
  pin: readonly WitnessPin[] = [],
): Promise<WitnessOutcome> {
  const prev = existsSync(statePath) ? readState(statePath) : null;
  const published = await publishedKeys(client);
  const first = pin.length > 0 ? pin : published;
  // The keys stay those pinned at first use; a revocation learnt since, from --trust or from
  // the server, only narrows what a key vouches for, so it is taken from either.
  const pins = withRevocations(prev ? pinsOf(prev) : first, [...pin, ...published]);
  const verifierKeys = pins.map((p) => p.verifierKey);
  const note = await client.request<string>('GET', '/v1/log/checkpoint', undefined, {
    responseType: 'text',
  });
  let opened;
  try {
    opened = openCheckpoint(
      note,
      verifierKeys.map((k) => NoteVerifier.fromVerifierKey(k)),
      prev ? { origin: prev.origin } : {},
    );
  } catch (e) {
    throw inconsistent(
      `checkpoint does not verify under any pinned key: ${(e as Error).message}` +
        ' (after a key rotation, pin the new history: --trust FILE with a new --state)',
      'CHECKPOINT_SIGNATURE_INVALID',
    );
  }
  const cp = opened.checkpoint;
  // A key revoked at N vouches for no tree beyond N: whoever took it could sign one.
  const vouching = pins.filter((p) => p.revokedAtIndex === null || cp.size <= p.revokedAtIndex);
  try {
    openCheckpoint(
      note,
      vouching.map((p) => NoteVerifier.fromVerifierKey(p.verifierKey)),
      { origin: cp.origin },
    );
  } catch {
    throw inconsistent(
      `checkpoint of size ${cp.size} is signed only by keys revoked before it`,
      'CHECKPOINT_SIGNATURE_INVALID',
    );
  }
  const next: WitnessState = {
    verifierKeys,
    revokedAtIndex: pins.map((p) => p.revokedAtIndex),
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
  const { proof } = await client.request<{ proof: string[] }>(
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
