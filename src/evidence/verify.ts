/**
 * The offline verifier of evidence bundles. It never throws on hostile input: every
 * failure is a named check in the report, and every check runs even after another
 * failed, so the report says everything that is wrong.
 */
import { decodeBase64Strict } from '../core/base64.js';
import { openCheckpoint, parseCheckpoint } from '../log/checkpoint.js';
import type { Checkpoint } from '../log/checkpoint.js';
import { leafHash } from '../log/hash.js';
import { noteVerifierFor } from './key-cache.js';
import { verifyInclusion } from '../log/verify.js';
import type { JWK } from 'jose';
import type { EvidenceBundle } from './bundle.js';
import type { Add, Jwks, ReadEntry } from './checks.js';
import {
  checkRequest,
  checkStatement,
  checkUses,
  checkWarrant,
  keyResolver,
  why,
} from './checks.js';
import { custodyOf, EMPTY_CUSTODY } from './custody.js';
import { verifyEnvelope } from './dsse.js';
import type { EvidenceCheckCode } from './errors.js';
import { parseEvent } from './read.js';
import type { TrustMode, VerificationCheck, VerificationReport } from './report.js';
import { shapeBundle, shapeJwks } from './shape.js';

export type { TrustMode, VerificationCheck, VerificationReport } from './report.js';

/** One pinned log key and, when known, the log index of its revocation. */
export interface LogKeyPin {
  /** A C2SP signed-note verifier key. */
  readonly verifierKey: string;
  /** Leaf index of the key's `key.revoked` event: it vouches for trees no larger than that. */
  readonly revokedAtIndex?: number | null;
}

/** Trust anchors pinned by the verifier. Whatever is not given is taken from the bundle. */
export interface TrustAnchors {
  /** The C2SP verifier key of the log (one key; `logKeys` pins a whole history). */
  readonly logVerifierKey?: string;
  /** Every log key the verifier trusts, with revocation positions (a trust file's `logKeys`). */
  readonly logKeys?: readonly LogKeyPin[];
  /** The JWKS of the keys that sign warrants and attestations. */
  readonly jwks?: { readonly keys: readonly JWK[] };
}

/** The pinned log keys, or null when none were given (the bundle's own key is used). */
function pinnedLogKeys(trust: TrustAnchors): LogKeyPin[] | null {
  const pins = [
    ...(trust.logVerifierKey === undefined ? [] : [{ verifierKey: trust.logVerifierKey }]),
    ...(trust.logKeys ?? []),
  ];
  return pins.length === 0 ? null : pins;
}

function logKeysInForce(b: EvidenceBundle, trust: TrustAnchors, add: Add): LogKeyPin[] {
  const pins = pinnedLogKeys(trust);
  if (pins === null) return [{ verifierKey: b.logVerifierKey }];
  const known = pins.some((k) => k.verifierKey === b.logVerifierKey);
  add(
    'LOG_KEY_MISMATCH',
    known,
    known ? 'embedded log key is a pinned key' : 'embedded log key is not a pinned key',
  );
  return pins;
}

function jwksInForce(b: EvidenceBundle, trust: TrustAnchors, add: Add): Jwks | undefined {
  if (trust.jwks === undefined) return b.jwks;
  const pinned = shapeJwks(trust.jwks);
  if (!pinned.ok) {
    add('JWKS_MISMATCH', false, `pinned JWKS is malformed: ${pinned.reason}`);
    return undefined;
  }
  const unknown = b.jwks.keys.filter(
    (k) => !pinned.value.keys.some((t) => t.kid === k.kid && t.x === k.x),
  );
  add(
    'JWKS_MISMATCH',
    unknown.length === 0,
    unknown.length === 0
      ? 'every embedded key is in the pinned JWKS'
      : `${unknown.length} embedded key(s) are not in the pinned JWKS`,
  );
  return pinned.value;
}

function openCp(note: string, pins: readonly LogKeyPin[], add: Add): Checkpoint | undefined {
  try {
    const verifiers = pins.flatMap((k) => {
      try {
        return [{ pin: k, verifier: noteVerifierFor(k.verifierKey) }];
      } catch {
        return [];
      }
    });
    const { checkpoint, verifiedKeys } = openCheckpoint(
      note,
      verifiers.map((v) => v.verifier),
    );
    // Decided by log position, not by a clock: a key vouches only for trees that do
    // not yet hold its own revocation event.
    const sound = verifiers.filter(
      (v) =>
        verifiedKeys.includes(v.verifier) &&
        !(typeof v.pin.revokedAtIndex === 'number' && checkpoint.size > v.pin.revokedAtIndex),
    );
    add(
      'CHECKPOINT_SIGNATURE_INVALID',
      sound.length > 0,
      sound.length > 0
        ? `checkpoint of size ${checkpoint.size} signed by a trusted log key`
        : `checkpoint of size ${checkpoint.size} was signed by a key after its revocation`,
    );
    return sound.length > 0 ? checkpoint : undefined;
  } catch (e) {
    add(
      'CHECKPOINT_SIGNATURE_INVALID',
      false,
      `checkpoint does not verify under the log key${why(e)}`,
    );
    return undefined;
  }
}

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

/** Runs one check, turning anything it throws into a failure of `code`. */
async function guarded(add: Add, code: EvidenceCheckCode, run: () => unknown): Promise<void> {
  try {
    await run();
  } catch (e) {
    add(code, false, `check could not complete${why(e)}`);
  }
}

async function verifyShaped(
  input: unknown,
  trust: TrustAnchors,
  mode: TrustMode,
): Promise<VerificationReport> {
  const shaped = shapeBundle(input);
  if (!shaped.ok) {
    const checks = [{ code: 'BUNDLE_MALFORMED' as const, ok: false, detail: shaped.reason }];
    return { ok: false, requestId: null, trust: mode, checks, custody: EMPTY_CUSTODY };
  }
  const b = shaped.value;
  const checks: VerificationCheck[] = [];
  const add: Add = (code, ok, detail, index) => {
    checks.push(index === undefined ? { code, ok, detail } : { code, ok, detail, index });
  };
  add('BUNDLE_MALFORMED', true, 'bundle is a well-formed v1 evidence bundle');
  const logKeys = logKeysInForce(b, trust, add);
  const jwks = jwksInForce(b, trust, add);
  const cp = openCp(b.checkpoint, logKeys, add);
  const entries = readEntries(b, cp, add);
  const events = entries.flatMap((e) => (e.event === undefined ? [] : [e.event]));
  await guarded(add, 'REQUEST_DIGEST_MISMATCH', () => checkRequest(b.requestId, entries, add));
  await guarded(add, 'WARRANT_CLAIMS_MISMATCH', () => checkWarrant(b, jwks, events, add));
  await guarded(add, 'USES_EXCEED_SIGNED_MAX', () => checkUses(events, add));
  await guarded(add, 'DSSE_SIGNATURE_INVALID', () => {
    const ok = jwks !== undefined && verifyEnvelope(b.attestation, keyResolver(jwks));
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
    checks,
    custody: custodyOf(events),
  };
}

/**
 * Verifies an evidence bundle offline. Pin `trust` anchors obtained out of band;
 * without them the embedded ones are used and `report.trust` says so. Never throws.
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
): Promise<VerificationReport> {
  // Untyped callers may pass anything; read the anchors defensively.
  const anchors: TrustAnchors = typeof trust === 'object' && trust !== null ? trust : {};
  const pinned = [pinnedLogKeys(anchors), anchors.jwks ?? null].filter((a) => a !== null).length;
  const mode: TrustMode = pinned === 2 ? 'pinned' : pinned === 1 ? 'partial' : 'embedded';
  try {
    return await verifyShaped(input, anchors, mode);
  } catch (e) {
    const checks = [
      { code: 'BUNDLE_MALFORMED' as const, ok: false, detail: `verification aborted${why(e)}` },
    ];
    return { ok: false, requestId: null, trust: mode, checks, custody: EMPTY_CUSTODY };
  }
}
