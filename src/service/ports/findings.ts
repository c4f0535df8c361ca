import type {
  Finding,
  FindingKind,
  FindingProof,
  FindingResolution,
  FindingState,
} from '../../reconcile/finding.js';
import type { ExistingFinding } from '../../reconcile/input.js';
import type { SubjectRange } from './subjects.js';

export interface FindingReader {
  get(id: string): Promise<Finding | null>;
  list(state: FindingState | undefined, limit: number): Promise<Finding[]>;
  /** One page, newest first, after the cursor row (keyset on raised_at, id). */
  page(filter: FindingPageFilter): Promise<Finding[]>;
  /** The findings about this subject that name no request (observed grants), by id. */
  unlinkedOf(subject: string): Promise<Finding[]>;
  /** Whether a finding of this key was ever raised. */
  hasKey(key: string): Promise<boolean>;
  /** Every finding recorded, whatever its state, by key. */
  existing(): Promise<Map<string, ExistingFinding>>;
  /** How many findings of each kind are open (kinds with none are absent): one grouped count. */
  openByKind(): Promise<Map<FindingKind, number>>;
  /** The findings of `existing` whose subject lies in `range`. */
  existingIn(range: SubjectRange): Promise<Map<string, ExistingFinding>>;
  /** Which of `keys` were ever raised. */
  keysRaised(keys: readonly string[]): Promise<Set<string>>;
}

export interface FindingWriter extends FindingReader {
  insert(f: Finding, eventId: number): Promise<void>;
  /**
   * Moves a finding from the state `from` that was read to `state`. False when it was no
   * longer in `from` (another transaction moved it first, under READ COMMITTED), so that
   * one transition is never recorded twice.
   */
  update(
    id: string,
    from: FindingState,
    state: FindingState,
    resolution: FindingResolution | null,
    at: string,
  ): Promise<boolean>;
  /**
   * Opens a resolved finding again, with the detail and proof of the occurrence that
   * reopened it, if it is still resolved as it was read (`resolvedAt`, its `updatedAt`).
   * False otherwise: another pass reopened it first, and perhaps a person resolved it since.
   */
  reopen(
    id: string,
    resolvedAt: string,
    detail: string,
    evidence: FindingProof,
    at: string,
  ): Promise<boolean>;
  /** Inserts findings with multi-row statements, each with the id of its `finding.raised` event. */
  insertMany(
    rows: readonly { readonly finding: Finding; readonly eventId: number }[],
  ): Promise<void>;
}

export interface FindingPageFilter {
  readonly state?: FindingState;
  readonly kind?: FindingKind;
  readonly subject?: string;
  readonly after?: { readonly raisedAt: string; readonly id: string };
  readonly limit: number;
}
