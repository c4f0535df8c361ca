import { CountersignError } from '../core/errors.js';

/**
 * Codes raised by the `evidence` area when a bundle is *built*. Verification never
 * throws: its outcomes are {@link EvidenceCheckCode}s in a report.
 *
 * - `EVIDENCE_INPUT_INVALID`: the builder was given something it cannot attest to
 *   (a malformed request id, a checkpoint that does not verify under the log key,
 *   a leaf that is not a log event).
 */
export type EvidenceErrorCode = 'EVIDENCE_INPUT_INVALID';

/** An error raised while building an evidence bundle. */
export class EvidenceError extends CountersignError<EvidenceErrorCode> {
  constructor(
    code: EvidenceErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.name = 'EvidenceError';
  }
}

/**
 * Every check the offline verifier runs. A check result carries its code whether
 * it passed or failed, so a report always names what was checked. The codes are
 * part of the API.
 */
export const EVIDENCE_CHECK_CODES = [
  /** The input is not a well-formed evidence bundle (strict JSON, exact shape, limits). */
  'BUNDLE_MALFORMED',
  /** A pinned log verifier key was given and differs from the embedded one (or is malformed). */
  'LOG_KEY_MISMATCH',
  /** A pinned JWKS was given and an embedded key is not in it (or the pinned JWKS is malformed). */
  'JWKS_MISMATCH',
  /** The checkpoint note does not verify under the log key, or its body is not a checkpoint. */
  'CHECKPOINT_SIGNATURE_INVALID',
  /** One entry's RFC 9162 inclusion proof does not lead to the checkpoint root. */
  'INCLUSION_PROOF_INVALID',
  /** Entries are not in strictly ascending log order (reordered or duplicated). */
  'ENTRY_ORDER_INVALID',
  /** A leaf is not the canonical JSON of a v1 log event. */
  'LEAF_MALFORMED',
  /** An event's `links.request` is not the bundle's request id. */
  'REQUEST_LINK_MISMATCH',
  /** No `request.created` event, its body's digest is not the request id, or a decision names another digest. */
  'REQUEST_DIGEST_MISMATCH',
  /** The warrant JWS does not verify under the JWKS in force. */
  'WARRANT_SIGNATURE_INVALID',
  /** The warrant's payload is not exactly the claims of the `warrant.issued` event. */
  'WARRANT_CLAIMS_MISMATCH',
  /**
   * More allowed redemptions than the warrant's signed `max_uses`, or redemptions that do
   * not carry uses 1, 2, 3 … in log order: a use counter was reset or a use replayed.
   */
  'USES_EXCEED_SIGNED_MAX',
  /** No DSSE signature over the attestation verifies under the JWKS in force. */
  'DSSE_SIGNATURE_INVALID',
  /** The attested in-toto statement is not the one the entries imply. */
  'STATEMENT_MISMATCH',
  /**
   * The verifier asked for a tree of at least some size and the verified checkpoint is
   * smaller (or none verified): the bundle may predate a revocation or a finding.
   */
  'CHECKPOINT_TOO_OLD',
] as const;
export type EvidenceCheckCode = (typeof EVIDENCE_CHECK_CODES)[number];
