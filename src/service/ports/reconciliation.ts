import type { EvidenceRole } from '../../reconcile/finding.js';
import type { ApprovedGrant, DenialRecord, RedemptionRecord } from '../../reconcile/input.js';
import type { SubjectRange } from './subjects.js';

export interface ExpiringWarrant {
  readonly warrantId: string;
  readonly requestId: string;
  readonly subject: string;
  readonly notAfter: string;
}

/** Where a page of due expiries ends: the last warrant's stored window end and id. */
export interface ExpiryCursor {
  readonly notAfter: string;
  readonly id: string;
}

/** One page of due expiries, and where the next begins (null: there is no next). */
export interface ExpiriesPage {
  readonly due: readonly ExpiringWarrant[];
  readonly next: ExpiryCursor | null;
}

/**
 * How far the last complete reconciliation pass reached (docs/decisions/0029): the log
 * size its snapshot held, its instant, the parameters it judged with, and when a pass
 * last planned every subject.
 */
export interface Watermark {
  readonly treeSize: number;
  readonly at: string;
  readonly params: string;
  readonly fullAt: string;
}

/** The subjects a pass must plan again, and the log size the reading snapshot holds. */
export interface ChangedSubjects {
  readonly subjects: readonly string[];
  readonly treeSize: number;
  /**
   * Whether a redemption naming no warrant held was refused since (always, for a pass over
   * every subject): only then are the callers' refusals judged again.
   */
  readonly unattributed: boolean;
}

/** What reconciliation reads beside fulfilments, observations and findings. */
export interface ReconciliationReader {
  /** One per issued warrant (of the subjects in `range`, when given), with the request fields the reconciler needs. */
  grants(range?: SubjectRange): Promise<ApprovedGrant[]>;
  /** Up to `limit` registered NHI ids after `after`, in the database's text order: the slices of a pass. */
  subjects(after: string | null, limit: number): Promise<string[]>;
  /** The grants of one subject, newest warrant first. */
  grantsForSubject(subject: string): Promise<ApprovedGrant[]>;
  /**
   * Denied redemptions of known warrants (of those in `warrants`, when given: a slice's
   * grants name them), from the redemptions table, in the order they were recorded.
   */
  denials(warrants?: readonly string[]): Promise<DenialRecord[]>;
  /**
   * Denied redemptions that name no warrant this server holds (forged, unreadable or
   * foreign ones), in the order they were recorded: they count against their caller. Left
   * out: a caller's whose first finding is live, and those made until a person resolved it
   * (decision 0037).
   */
  unattributedDenials(): Promise<DenialRecord[]>;
  /** Allowed redemptions (of `warrants`, when given), in the order they were recorded. */
  allowedRedemptions(warrants?: readonly string[]): Promise<RedemptionRecord[]>;
  /**
   * Up to `limit` warrants whose window ended by `now` and whose expiry is not yet
   * recorded, in order of window end then id, after `after`. The first page (`after`
   * null) also holds, beyond `limit`, every due row from before migration 006 that keeps
   * its window only in the request body.
   */
  warrantsToExpire(now: string, after: ExpiryCursor | null, limit: number): Promise<ExpiriesPage>;
  /**
   * The leaf index of the event that recorded each record, by record id: null while
   * the event waits for the integrator. Ids with no such event are left out.
   */
  leavesOf(role: EvidenceRole, ids: readonly string[]): Promise<Map<string, number | null>>;
  /** The last complete pass's watermark; null before the first. */
  watermark(): Promise<Watermark | null>;
  /**
   * The log size this view holds, and with `since` the subjects whose state may have
   * changed after it: those named by an event not yet integrated or integrated at or
   * after `since.treeSize` (but `warrant.expired`, which no rule reads), and those of
   * every warrant whose window had not ended at `since.at` (or
   * keeps its window only in the request body). In text order; no subjects without `since`.
   */
  changedSubjects(
    since: { readonly treeSize: number; readonly at: string } | null,
  ): Promise<ChangedSubjects>;
}

export interface ReconciliationWriter extends ReconciliationReader {
  /** Records a complete pass's watermark, unless a pass that reached further already did. */
  advanceWatermark(mark: Watermark): Promise<void>;
  /**
   * Marks the expiry of each warrant recorded, in one statement; returns those this call
   * marked, leaving out any another pass already had.
   */
  markExpiriesRecorded(warrantIds: readonly string[], at: string): Promise<Set<string>>;
}
