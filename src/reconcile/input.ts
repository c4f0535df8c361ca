import type { Scope } from '../core/scope.js';
import type { Fulfilment } from '../fulfilment/fulfilment.js';
import type { Observation } from '../observation/observation.js';
import type { RequestAction } from '../request/request.js';
import type { FindingState, NewFinding } from './finding.js';

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

/** A refused redemption, as logged. */
export interface DenialRecord {
  readonly id: string;
  readonly warrantId: string;
  readonly requestId: string | null;
  readonly code: string;
  readonly executor: string;
  readonly at: string;
}

/** A finding already recorded, by key. */
export interface ExistingFinding {
  readonly id: string;
  readonly state: FindingState;
  readonly automatic?: boolean;
}

export interface ReconcileInput {
  readonly now: Date;
  /** One per issued warrant. */
  readonly grants: readonly ApprovedGrant[];
  readonly fulfilments: readonly Fulfilment[];
  readonly observations: readonly Observation[];
  readonly denials: readonly DenialRecord[];
  /** Every finding already recorded, whatever its state, by key. */
  readonly existing: ReadonlyMap<string, ExistingFinding>;
  /** Denied redemptions of one warrant that make a `REDEMPTION_ABUSE` finding. Default 3. */
  readonly abuseThreshold?: number;
}

/** An open or acknowledged finding whose condition no longer holds. */
export interface AutomaticResolution {
  readonly findingId: string;
  readonly key: string;
  /** `condition cleared: …` */
  readonly reason: string;
}

export interface ReconcileResult {
  readonly raise: NewFinding[];
  readonly resolve: AutomaticResolution[];
}

/**
 * Where each rule reports its verdict on one finding key: the condition holds, or
 * it was evaluated and no longer holds. Keys a rule cannot evaluate are not reported.
 */
export interface FindingSink {
  holds(finding: NewFinding): void;
  cleared(key: string, reason: string): void;
}

/** Evidence lists are capped so that one noisy key cannot make a huge finding. */
export const MAX_EVIDENCE = 20;

export const capEvidence = (ids: readonly string[]): string[] =>
  ids.length <= MAX_EVIDENCE
    ? [...ids]
    : [...ids.slice(0, MAX_EVIDENCE - 1), ids[ids.length - 1] as string];
