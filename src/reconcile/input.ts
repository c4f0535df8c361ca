import type { Scope } from '../core/scope.js';
import type { Fulfilment } from '../fulfilment/fulfilment.js';
import type { Observation } from '../observation/observation.js';
import type { RequestAction } from '../core/vocabulary.js';
import type { FindingEvidence, FindingState, NewFinding } from './finding.js';

/** What one issued warrant approved: the reconciler's view of an approval. */
export interface ApprovedGrant {
  readonly requestId: string;
  readonly warrantId: string;
  readonly subject: string;
  readonly action: RequestAction;
  readonly scope: Scope;
  readonly environment: string;
  /** Empty: an untargeted warrant (see `UNTARGETED`). */
  readonly targets: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  /** When the warrant itself was revoked, or null. */
  readonly revokedAt: string | null;
}

/**
 * An allowed redemption, as logged. Its `id` is the id of its `redemption.allowed`
 * event: the event is the only record that names the target it was redeemed for.
 */
export interface RedemptionRecord {
  readonly id: string;
  readonly warrantId: string;
  /** The receipt's id, which fulfilments report against. */
  readonly receiptId: string;
  /** The target named in the redeemed action; null for an untargeted warrant. */
  readonly target: string | null;
  readonly at: string;
}

/** A refused redemption, as logged. Its `id` is the id of its `redemption.denied` event. */
export interface DenialRecord {
  readonly id: string;
  /** Null when the caller presented no warrant this server holds (forged, unreadable, none). */
  readonly warrantId: string | null;
  readonly requestId: string | null;
  readonly code: string;
  readonly executor: string;
  readonly at: string;
}

/** A finding already recorded, by key. */
export interface ExistingFinding {
  readonly id: string;
  readonly state: FindingState;
  /** Resolved by reconciliation (the condition was seen to clear), not by a person. */
  readonly automatic?: boolean;
  /** When it was resolved (its resolution's `at`), for a resolved finding. */
  readonly resolvedAt?: string;
}

export interface ReconcileInput {
  readonly now: Date;
  /** One per issued warrant. */
  readonly grants: readonly ApprovedGrant[];
  readonly fulfilments: readonly Fulfilment[];
  readonly observations: readonly Observation[];
  /** Allowed redemptions of the warrants in `grants`. */
  readonly redemptions: readonly RedemptionRecord[];
  readonly denials: readonly DenialRecord[];
  /** Every finding already recorded, whatever its state, by key. */
  readonly existing: ReadonlyMap<string, ExistingFinding>;
  /** Denied redemptions of one warrant that make a `REDEMPTION_ABUSE` finding. Default 3. */
  readonly abuseThreshold?: number;
  /**
   * How long after one target of a rotation was observed on its new version another
   * approved target may still be observed on the old one before that target is
   * `UNFULFILLED_TARGET`, inside the window. Default 15 minutes.
   */
  readonly driftGraceMs?: number;
}

/** An open or acknowledged finding whose condition no longer holds. */
export interface AutomaticResolution {
  readonly findingId: string;
  readonly key: string;
  /** `condition cleared: …` */
  readonly reason: string;
}

/**
 * A finding reconciliation resolved itself whose condition holds again: it is opened again,
 * with the evidence and detail of this occurrence.
 */
export interface Reopening {
  readonly findingId: string;
  readonly finding: NewFinding;
}

export interface ReconcileResult {
  readonly raise: NewFinding[];
  readonly reopen: Reopening[];
  readonly resolve: AutomaticResolution[];
}

/**
 * Where each rule reports its verdict on one finding key: the condition holds, or
 * it was evaluated and no longer holds. Keys a rule cannot evaluate are not reported.
 */
export interface FindingSink {
  /**
   * `sameFactAs`: keys under which this same fact may already have been raised (a verdict
   * that changed kind as warrants were approved since); the finding is not raised twice.
   */
  holds(finding: NewFinding, sameFactAs?: readonly string[]): void;
  cleared(key: string, reason: string): void;
}

/** Evidence lists are capped so that one noisy key cannot make a huge finding. */
export const MAX_EVIDENCE = 20;

export const capEvidence = (ids: readonly string[]): string[] =>
  ids.length <= MAX_EVIDENCE
    ? [...ids]
    : [...ids.slice(0, MAX_EVIDENCE - 1), ids[ids.length - 1] as string];

/** Evidence with every list present, distinct and capped; unnamed roles are empty. */
export const evidence = (cites: Partial<Record<keyof FindingEvidence, readonly string[]>>) => {
  const list = (ids: readonly string[] | undefined): string[] => capEvidence([...new Set(ids)]);
  return {
    warrants: list(cites.warrants),
    redemptions: list(cites.redemptions),
    fulfilments: list(cites.fulfilments),
    observations: list(cites.observations),
  } satisfies FindingEvidence;
};
