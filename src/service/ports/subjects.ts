/**
 * A slice of subjects: every subject `s` with `after < s <= through` in the database's
 * own text order (a null bound is open). Reconciliation reads the state of one slice at a
 * time, so what it holds in memory is bounded by a slice, not by the whole store.
 */
export interface SubjectRange {
  readonly after: string | null;
  readonly through: string | null;
  /**
   * Only these subjects (within the bounds): an incremental pass's slice of the subjects
   * whose state changed (see `ReconciliationReader.changedSubjects`).
   */
  readonly only?: readonly string[];
}

/** Every subject: one range with both ends open. */
export const ALL_SUBJECTS: SubjectRange = { after: null, through: null };
