import type { Fulfilment, FulfilmentPhase } from '../fulfilment/fulfilment.js';
import type { Observation } from '../observation/observation.js';
import type {
  EvidenceRole,
  Finding,
  FindingResolution,
  FindingState,
} from '../reconcile/finding.js';
import type {
  ApprovedGrant,
  DenialRecord,
  ExistingFinding,
  RedemptionRecord,
} from '../reconcile/input.js';

export interface WebhookDelivery {
  readonly id: string;
  readonly endpoint: string;
  readonly eventType: string;
  readonly payload: string;
  readonly state: 'pending' | 'delivered' | 'dead';
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
  readonly createdAt: string;
}

export interface ExpiringWarrant {
  readonly warrantId: string;
  readonly requestId: string;
  readonly subject: string;
  readonly notAfter: string;
}

/** The reconciliation half of the persistence port: what was claimed, observed and found. */
export interface ReconcileRepo {
  insertFulfilment(f: Fulfilment, eventId: number): Promise<void>;
  hasSuccessfulFulfilment(
    receiptId: string,
    target: string,
    phase: FulfilmentPhase,
  ): Promise<boolean>;
  listFulfilments(): Promise<Fulfilment[]>;

  observationExists(key: string): Promise<boolean>;
  latestObservedAt(subject: string, target: string, factKey: string): Promise<string | null>;
  insertObservation(o: Observation, key: string, factKey: string, eventId: number): Promise<void>;
  listObservations(): Promise<Observation[]>;

  insertFinding(f: Finding, eventId: number): Promise<void>;
  updateFinding(
    id: string,
    state: FindingState,
    resolution: FindingResolution | null,
    at: string,
  ): Promise<void>;
  getFinding(id: string): Promise<Finding | null>;
  listFindings(state: FindingState | undefined, limit: number): Promise<Finding[]>;
  existingFindings(): Promise<Map<string, ExistingFinding>>;

  /** One per issued warrant, with the request body fields the reconciler needs. */
  listApprovedGrants(): Promise<ApprovedGrant[]>;
  /** The grants of one subject, newest warrant first. */
  grantsForSubject(subject: string): Promise<ApprovedGrant[]>;
  /** Denied redemptions of known warrants, with the log event id as their id. */
  listDenials(): Promise<DenialRecord[]>;
  /** Allowed redemptions, with the log event id as their id. */
  listAllowedRedemptions(): Promise<RedemptionRecord[]>;
  /** Warrants whose window ended by `now` and whose expiry is not yet recorded. */
  warrantsToExpire(now: string): Promise<ExpiringWarrant[]>;
  markExpiryRecorded(warrantId: string, at: string): Promise<void>;

  /**
   * The leaf index of the event that recorded each record, by record id: null while
   * the event waits for the integrator. Ids with no such event are left out. Records
   * are named as in `FindingEvidence` (a redemption by its event id).
   */
  leavesOf(role: EvidenceRole, ids: readonly string[]): Promise<Map<string, number | null>>;

  insertDelivery(d: WebhookDelivery): Promise<void>;
  dueDeliveries(now: string, limit: number): Promise<WebhookDelivery[]>;
  updateDelivery(
    id: string,
    patch: Pick<WebhookDelivery, 'state' | 'attempts' | 'nextAttemptAt' | 'lastError'>,
  ): Promise<void>;
  listDeliveries(state: WebhookDelivery['state'], limit: number): Promise<WebhookDelivery[]>;
}
