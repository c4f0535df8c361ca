/**
 * "Verify inclusion", done in the browser: the log entry's leaf hash is computed here
 * from the entry's text, the audit path is folded up to a root, and that root must be
 * the one in the newest checkpoint, whose Ed25519 signature must verify under the
 * log's verifier key. The server only supplies data; it is trusted for nothing but the
 * verifier key, which the reader may compare with a pinned copy (the Log page shows it).
 */
import { isObj } from './unknown.js';
import { bytesEqual, fromBase64Strict, toBase64 } from './bytes.js';
import { leafHashOfText, verifyInclusion } from './merkle.js';
import { openCheckpoint, parseVerifierKey, type VerifierKey } from './note.js';

export interface LogSource {
  /** `GET /v1/log/verifier-keys`. */
  verifierKeys(): Promise<unknown>;
  /** `GET /v1/log/checkpoint` (the signed note text). */
  checkpoint(): Promise<string>;
  /** `GET /v1/log/proof/inclusion?index=&size=`. */
  inclusionProof(index: number, size: number): Promise<unknown>;
}

export interface CheckLine {
  readonly label: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface InclusionResult {
  readonly ok: boolean;
  readonly checks: readonly CheckLine[];
  readonly treeSize: number | null;
  readonly origin: string | null;
  readonly rootHash: string | null;
  readonly leafHash: string;
}

/** The usable keys of a `/v1/log/verifier-keys` answer: every key not revoked. */
export async function usableKeys(
  answer: unknown,
): Promise<{ keys: VerifierKey[]; origin: string | null }> {
  const origin = isObj(answer) && typeof answer.origin === 'string' ? answer.origin : null;
  const list = isObj(answer) && Array.isArray(answer.keys) ? answer.keys : [];
  const keys: VerifierKey[] = [];
  for (const k of list) {
    if (!isObj(k) || typeof k.verifierKey !== 'string' || k.state === 'revoked') continue;
    const parsed = await parseVerifierKey(k.verifierKey);
    if (parsed.ok) keys.push(parsed.value);
  }
  return { keys, origin };
}

/** Verifies that the entry `leaf` at `index` is in the log the newest checkpoint commits to. */
export async function verifyEntryInclusion(
  entry: { readonly index: number; readonly leaf: string },
  source: LogSource,
): Promise<InclusionResult> {
  const checks: CheckLine[] = [];
  const leaf = await leafHashOfText(entry.leaf);
  const leafB64 = toBase64(leaf);
  const fail = (
    label: string,
    detail: string,
    partial: Partial<InclusionResult> = {},
  ): InclusionResult => ({
    ok: false,
    checks: [...checks, { label, ok: false, detail }],
    treeSize: null,
    origin: null,
    rootHash: null,
    leafHash: leafB64,
    ...partial,
  });
  checks.push({ label: 'Leaf hash computed in your browser', ok: true, detail: leafB64 });

  const { keys, origin } = await usableKeys(await source.verifierKeys());
  if (keys.length === 0) return fail('Log verifier key', 'no usable verifier key was published');
  checks.push({
    label: 'Log verifier key read',
    ok: true,
    detail: keys.map((k) => k.name).join(', '),
  });

  const cp = await openCheckpoint(await source.checkpoint(), keys);
  if (!cp.ok) return fail('Checkpoint signature (Ed25519)', cp.reason);
  if (origin !== null && cp.value.origin !== origin) {
    return fail('Checkpoint origin', `checkpoint names ${cp.value.origin}, the log is ${origin}`);
  }
  const { size, rootHash, rootHashBase64 } = cp.value;
  const known = { treeSize: size, origin: cp.value.origin, rootHash: rootHashBase64 };
  checks.push({
    label: 'Checkpoint signature (Ed25519) verified',
    ok: true,
    detail: `signed by ${cp.value.verifiedBy.join(', ')}; tree size ${size}`,
  });
  if (entry.index >= size) {
    return fail(
      'Inclusion proof',
      `entry ${entry.index} is not yet in the signed tree of ${size}`,
      known,
    );
  }

  const answer = await source.inclusionProof(entry.index, size);
  const proofTexts = isObj(answer) && Array.isArray(answer.proof) ? answer.proof : null;
  const proof = proofTexts?.map((p) => (typeof p === 'string' ? fromBase64Strict(p) : undefined));
  if (!proof || proof.some((p) => p === undefined)) {
    return fail('Inclusion proof', 'the proof is not a list of base64 hashes', known);
  }
  const served = isObj(answer) && typeof answer.leafHash === 'string' ? answer.leafHash : null;
  const servedBytes = served === null ? undefined : fromBase64Strict(served);
  if (servedBytes !== undefined && !bytesEqual(servedBytes, leaf)) {
    return fail('Leaf', 'the log holds a different entry at this index', known);
  }
  const ok = await verifyInclusion(leaf, entry.index, size, proof as Uint8Array[], rootHash);
  if (!ok)
    return fail(
      'Inclusion proof (RFC 9162)',
      'the audit path does not lead to the signed root',
      known,
    );
  checks.push({
    label: 'Inclusion proof (RFC 9162) leads to the signed root',
    ok: true,
    detail: `${proof.length} hashes, leaf ${entry.index} of ${size}`,
  });
  return { ok: true, checks, leafHash: leafB64, ...known };
}
