import type { CustodyChain } from './chain.js';
import type { EvidenceCheckCode } from './errors.js';
import type { CheckpointSummary } from './statement.js';

/** The outcome of one named check. `index` names the log entry a per-entry check is about. */
export interface VerificationCheck {
  readonly code: EvidenceCheckCode;
  readonly ok: boolean;
  /** What was checked or why it failed; names fields, never echoes keys or tokens. */
  readonly detail: string;
  readonly index?: number;
}

/**
 * Where the trust anchors came from:
 * - `pinned`: the caller gave both the log verifier key and the JWKS;
 * - `partial`: the caller gave one of them, the other was taken from the bundle;
 * - `embedded`: both were taken from the bundle, so the report shows only that the
 *   bundle is internally consistent, not who produced it.
 */
export type TrustMode = 'pinned' | 'partial' | 'embedded';

/** Options of the offline verifier beyond its trust anchors. */
export interface VerifyOptions {
  /**
   * The smallest tree the bundle's checkpoint may describe, such as the size of a
   * checkpoint seen since: a bundle is a snapshot, and events logged after it (a
   * revocation, a finding) are not in it. Smaller fails `CHECKPOINT_TOO_OLD`.
   */
  readonly atLeastSize?: number;
}

/** What the offline verifier found. `ok` is true exactly when every check passed. */
export interface VerificationReport {
  readonly ok: boolean;
  /** The bundle's request id, or `null` when the bundle could not be read at all. */
  readonly requestId: string | null;
  readonly trust: TrustMode;
  /**
   * The verified checkpoint the report is as of (its root in standard base64), or `null`
   * when none verified. Events logged after it cannot be in the bundle.
   */
  readonly checkpoint: CheckpointSummary | null;
  readonly checks: readonly VerificationCheck[];
  readonly custody: CustodyChain;
}
