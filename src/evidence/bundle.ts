/**
 * The evidence bundle: everything an auditor needs to check one request's approval
 * chain offline, and a pure builder that attests it.
 */
import type { JWK } from 'jose';
import { REQUEST_ID_PATTERN } from '../core/ids.js';
import { openCheckpoint } from '../log/checkpoint.js';
import { leafHash } from '../log/hash.js';
import { NoteVerifier } from '../log/note.js';
import type { DsseEnvelope, DsseSigner } from './dsse.js';
import { signEnvelope } from './dsse.js';
import { EvidenceError } from './errors.js';
import { parseEvent } from './read.js';
import { approvalChainStatement, IN_TOTO_PAYLOAD_TYPE, statementBytes } from './statement.js';

/** The media type of a v1 evidence bundle. */
export const EVIDENCE_MEDIA_TYPE = 'application/vnd.countersign.evidence.v1+json';

/** One log entry with its RFC 9162 inclusion proof against the bundle's checkpoint. */
export interface EvidenceEntry {
  /** The 0-based leaf index in the log. */
  readonly index: number;
  /** The leaf: the RFC 8785 canonical JSON of the event. */
  readonly leaf: string;
  /** The audit path, leaf side first; each hash in standard base64. */
  readonly proof: readonly string[];
}

export interface EvidenceBundle {
  readonly mediaType: typeof EVIDENCE_MEDIA_TYPE;
  readonly requestId: string;
  /** The signed note text of a C2SP tlog-checkpoint. */
  readonly checkpoint: string;
  /** The C2SP signed-note verifier key of the log. */
  readonly logVerifierKey: string;
  /** The public keys in force for warrants and the attestation. */
  readonly jwks: { readonly keys: readonly JWK[] };
  /** The warrant JWS, when one was issued. */
  readonly warrant: string | null;
  /** The request's events, in ascending log order. */
  readonly entries: readonly EvidenceEntry[];
  /** A DSSE envelope over the in-toto Statement v1 of the chain. */
  readonly attestation: DsseEnvelope;
}

/** What {@link buildBundle} packs; the attestation is made from it. */
export type BundleInput = Omit<EvidenceBundle, 'mediaType' | 'attestation'>;

function invalid(message: string, cause?: unknown): EvidenceError {
  return new EvidenceError(
    'EVIDENCE_INPUT_INVALID',
    message,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Builds a bundle and attests it: the in-toto statement computed from the entries is
 * signed by `signer` as a DSSE envelope (payloadType `application/vnd.in-toto+json`,
 * payload the RFC 8785 canonical JSON of the statement). Refuses (`EVIDENCE_INPUT_INVALID`)
 * to attest a checkpoint that does not verify under `logVerifierKey` or a leaf that is
 * not a log event.
 *
 * @example
 * ```ts
 * const bundle = buildBundle(
 *   { requestId, checkpoint: note, logVerifierKey, jwks: keys.jwks(), warrant: token, entries },
 *   { keyid: keys.activeKid, sign: (data) => keys.signBytes(data).signature },
 * );
 * ```
 */
export function buildBundle(input: BundleInput, signer: DsseSigner): EvidenceBundle {
  if (!REQUEST_ID_PATTERN.test(input.requestId)) throw invalid('requestId is not sha256:<hex>');
  let checkpoint;
  try {
    const verifier = NoteVerifier.fromVerifierKey(input.logVerifierKey);
    checkpoint = openCheckpoint(input.checkpoint, [verifier]).checkpoint;
  } catch (cause) {
    throw invalid('checkpoint does not verify under the log verifier key', cause);
  }
  const entries = input.entries.map((e) => {
    const event = parseEvent(e.leaf);
    if (event === undefined) throw invalid(`leaf ${e.index} is not a canonical log event`);
    const hash = leafHash(Buffer.from(e.leaf, 'utf8')).toString('hex');
    return { index: e.index, leafHash: hash, event };
  });
  let statement;
  try {
    statement = approvalChainStatement({
      requestId: input.requestId,
      checkpoint: {
        origin: checkpoint.origin,
        size: checkpoint.size,
        rootHash: checkpoint.rootHash.toString('base64'),
      },
      entries,
      logVerifierKey: input.logVerifierKey,
      jwks: input.jwks,
    });
  } catch (cause) {
    throw invalid('the statement cannot be canonicalised', cause);
  }
  return {
    mediaType: EVIDENCE_MEDIA_TYPE,
    requestId: input.requestId,
    checkpoint: input.checkpoint,
    logVerifierKey: input.logVerifierKey,
    jwks: input.jwks,
    warrant: input.warrant,
    entries: input.entries.map((e) => ({ index: e.index, leaf: e.leaf, proof: [...e.proof] })),
    attestation: signEnvelope(IN_TOTO_PAYLOAD_TYPE, statementBytes(statement), signer),
  };
}
