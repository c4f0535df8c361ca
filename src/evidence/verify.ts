/**
 * The offline verifier of evidence bundles. It never throws on hostile input: every
 * failure is a named check in the report, and every check runs even after another
 * failed, so the report says everything that is wrong.
 */
import { decodeBase64Strict } from '../core/base64.js';
import { parseCheckpoint } from '../log/checkpoint.js';
import type { Checkpoint } from '../log/checkpoint.js';
import { leafHash } from '../log/hash.js';
import { verifyInclusion } from '../log/verify.js';
import type { EvidenceBundle } from './bundle.js';
import type { Add, ReadEntry } from './checks.js';
import { checkRequest, checkStatement, checkUses, checkWarrant, why } from './checks.js';
import {
  keysAt,
  logKeysInForce,
  openCp,
  pinnedLogKeys,
  signingKeysInForce,
  type TrustAnchors,
} from './anchors.js';
import { EMPTY_CUSTODY } from './chain.js';
import { custodyOf } from './custody.js';
import { verifyEnvelope } from './dsse.js';
import type { EvidenceCheckCode } from './errors.js';
import { parseEvent } from './read.js';
import type { TrustMode, VerificationCheck, VerificationReport, VerifyOptions } from './report.js';
import { shapeBundle } from './shape.js';
import type { CheckpointSummary } from './statement.js';

export type { TrustMode, VerificationCheck, VerificationReport, VerifyOptions } from './report.js';
export type { LogKeyPin, RevokedKeyPin, TrustAnchors } from './anchors.js';

/** The checkpoint body without its signatures, to recompute the statement even when they fail. */
function unverifiedCheckpoint(note: string): Checkpoint | undefined {
  const split = note.lastIndexOf('\n\n');
  try {
    return split < 0 ? undefined : parseCheckpoint(note.slice(0, split + 1));
  } catch {
    return undefined;
  }
}

function readEntries(b: EvidenceBundle, cp: Checkpoint | undefined, add: Add): ReadEntry[] {
  let last = -1;
  let ordered = true;
  const out = b.entries.map((e) => {
    if (e.index <= last) ordered = false;
    last = Math.max(last, e.index);
    const hash = leafHash(Buffer.from(e.leaf, 'utf8'));
    const proof = e.proof.map((h) => decodeBase64Strict(h) ?? Buffer.alloc(0));
    // RFC 9162 §2.1.3.2: the audit path must lead from the leaf hash to the signed root.
    const included =
      cp !== undefined && verifyInclusion(hash, e.index, cp.size, proof, cp.rootHash);
    add(
      'INCLUSION_PROOF_INVALID',
      included,
      cp === undefined
        ? 'no verified checkpoint to prove inclusion against'
        : included
          ? `leaf ${e.index} is in the tree of size ${cp.size}`
          : `inclusion proof of leaf ${e.index} does not lead to the checkpoint root`,
      e.index,
    );
    const event = parseEvent(e.leaf);
    if (event === undefined)
      add('LEAF_MALFORMED', false, 'leaf is not the canonical JSON of a v1 event', e.index);
    return { index: e.index, leafHash: hash.toString('hex'), event };
  });
  if (out.every((e) => e.event !== undefined))
    add('LEAF_MALFORMED', true, `${out.length} leaves are v1 events`);
  add(
    'ENTRY_ORDER_INVALID',
    ordered,
    ordered
      ? 'entries are in ascending log order'
      : 'entries are not in strictly ascending log order',
  );
  return out;
}

/**
 * Every check passing says only that the bundle is sound as of its checkpoint; a caller
 * who has seen a later tree asks for at least its size, so an older export cannot pass
 * for the current state. Always recorded, so a report names every check.
 */
function checkFreshness(cp: Checkpoint | undefined, atLeast: unknown, add: Add): void {
  if (atLeast === undefined) {
    add('CHECKPOINT_TOO_OLD', true, 'no minimum tree size was asked for');
  } else if (typeof atLeast !== 'number' || !Number.isSafeInteger(atLeast) || atLeast < 0) {
    // A minimum that cannot be read cannot be met: fail closed rather than skip it.
    add('CHECKPOINT_TOO_OLD', false, 'the minimum tree size asked for is not a whole number');
  } else if (cp === undefined) {
    add('CHECKPOINT_TOO_OLD', false, `no verified checkpoint to compare with size ${atLeast}`);
  } else {
    const ok = cp.size >= atLeast;
    const cmp = ok ? 'at least' : 'smaller than';
    add('CHECKPOINT_TOO_OLD', ok, `checkpoint tree size ${cp.size} is ${cmp} ${atLeast}`);
  }
}

const summary = (cp: Checkpoint | undefined): CheckpointSummary | null =>
  cp === undefined
    ? null
    : { origin: cp.origin, size: cp.size, rootHash: cp.rootHash.toString('base64') };

/** Runs one check, turning anything it throws into a failure of `code`. */
async function guarded(add: Add, code: EvidenceCheckCode, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (e) {
    add(code, false, `check could not complete${why(e)}`);
  }
}

/** The report on a bundle that could not be read at all. */
function unread(mode: TrustMode, checks: VerificationCheck[]): VerificationReport {
  const base = { ok: false, requestId: null, trust: mode, checkpoint: null };
  return { ...base, checks, custody: EMPTY_CUSTODY };
}

async function verifyShaped(
  input: unknown,
  trust: TrustAnchors,
  mode: TrustMode,
  atLeast: unknown,
): Promise<VerificationReport> {
  const shaped = shapeBundle(input);
  if (!shaped.ok) {
    const checks = [{ code: 'BUNDLE_MALFORMED' as const, ok: false, detail: shaped.reason }];
    return unread(mode, checks);
  }
  const b = shaped.value;
  const checks: VerificationCheck[] = [];
  const add: Add = (code, ok, detail, index) => {
    checks.push(index === undefined ? { code, ok, detail } : { code, ok, detail, index });
  };
  add('BUNDLE_MALFORMED', true, 'bundle is a well-formed v1 evidence bundle');
  const logKeys = logKeysInForce(b, trust, add);
  const keys = signingKeysInForce(b, trust, add);
  const cp = openCp(b.checkpoint, logKeys, add);
  checkFreshness(cp, atLeast, add);
  const entries = readEntries(b, cp, add);
  const events = entries.flatMap((e) => (e.event === undefined ? [] : [e.event]));
  // A key revoked later still vouches for what it signed into a tree before its revocation.
  const issued = entries.find((e) => e.event?.type === 'warrant.issued');
  const warrantKeys = keys && keysAt(keys, (issued?.index ?? Infinity) + 1);
  await guarded(add, 'REQUEST_DIGEST_MISMATCH', () => checkRequest(b.requestId, entries, add));
  await guarded(add, 'WARRANT_CLAIMS_MISMATCH', () => checkWarrant(b, warrantKeys, events, add));
  await guarded(add, 'USES_EXCEED_SIGNED_MAX', () => checkUses(events, add));
  await guarded(add, 'DSSE_SIGNATURE_INVALID', () => {
    const resolve = keys && keysAt(keys, cp?.size ?? Infinity);
    const ok = resolve !== undefined && verifyEnvelope(b.attestation, resolve);
    add(
      'DSSE_SIGNATURE_INVALID',
      ok,
      ok
        ? 'attestation is signed by a key in the JWKS in force'
        : 'no attestation signature verifies under the JWKS in force',
    );
  });
  await guarded(add, 'STATEMENT_MISMATCH', () =>
    checkStatement(b, cp ?? unverifiedCheckpoint(b.checkpoint), entries, add),
  );
  return {
    ok: checks.every((c) => c.ok),
    requestId: b.requestId,
    trust: mode,
    checkpoint: summary(cp),
    checks,
    custody: custodyOf(events),
  };
}

/**
 * Verifies an evidence bundle offline. Pin `trust` anchors obtained out of band;
 * without them the embedded ones are used and `report.trust` says so. The report is as
 * of `report.checkpoint`; `options.atLeastSize` refuses an older one. Never throws.
 *
 * @example
 * ```ts
 * const report = await verifyBundle(readFileSync('evidence.json'), { logVerifierKey, jwks });
 * if (!report.ok) console.error(report.checks.filter((c) => !c.ok));
 * ```
 */
export async function verifyBundle(
  input: string | Uint8Array,
  trust: TrustAnchors = {},
  options: VerifyOptions = {},
): Promise<VerificationReport> {
  // Untyped callers may pass anything; read the anchors and options defensively.
  const anchors: TrustAnchors = typeof trust === 'object' && trust !== null ? trust : {};
  const atLeast: unknown =
    typeof options === 'object' && options !== null ? options.atLeastSize : undefined;
  const pinned = [pinnedLogKeys(anchors), anchors.jwks ?? null].filter((a) => a !== null).length;
  const mode: TrustMode = pinned === 2 ? 'pinned' : pinned === 1 ? 'partial' : 'embedded';
  try {
    return await verifyShaped(input, anchors, mode, atLeast);
  } catch (e) {
    const checks = [
      { code: 'BUNDLE_MALFORMED' as const, ok: false, detail: `verification aborted${why(e)}` },
    ];
    return unread(mode, checks);
  }
}
