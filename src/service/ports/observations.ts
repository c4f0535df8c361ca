import type { Observation } from '../../observation/observation.js';
import type { SubjectRange } from './subjects.js';

/** Where a page of {@link ObservationReader.latest} resumes: after this fact. */
export interface FactCursor {
  readonly subject: string;
  readonly target: string;
  readonly factKey: string;
}

export interface ObservationPage {
  readonly observations: Observation[];
  /** The cursor of the next page; null when this one was the last. */
  readonly next: FactCursor | null;
}

/** One fact of one subject at one target, asked at a time (`at`, an ISO instant). */
export interface ObservationProbe {
  readonly subject: string;
  readonly target: string;
  readonly factKey: string;
  readonly at: string;
}

/** A successful `apply` report with a fingerprint: where and when a version was claimed. */
export interface ClaimPoint {
  readonly subject: string;
  readonly target: string;
  /** An ISO instant, as stored. */
  readonly at: string;
}

/**
 * Observations are ordered, within one (subject, target, fact key), by `observedAt`, then
 * `receivedAt`, then id: the order the reconciler uses. Every read below returns its rows
 * in that order within each fact.
 */
export interface ObservationReader {
  exists(key: string): Promise<boolean>;
  latestObservedAt(subject: string, target: string, factKey: string): Promise<string | null>;
  list(): Promise<Observation[]>;
  /** The newest observation of each (subject, fact) at `target`: what it is known to hold now. */
  latestAt(target: string): Promise<Observation[]>;
  /**
   * The newest observation of each (subject, target, fact key) of `range`, by fact,
   * at most `limit` facts after `after`: `DISTINCT ON` on PostgreSQL, a window on SQLite.
   */
  latest(range: SubjectRange, after: FactCursor | null, limit: number): Promise<ObservationPage>;
  /**
   * What the rules read of the histories in `range` (docs/decisions/0024), each row once
   * and in no promised order (its one reader sorts): in each fact's history the first and
   * the last observation of every run of one value, so the newest (as {@link latest} gives
   * it), the first and last showing a grant present, and each observation before and after
   * a change of version; and for every claim, the newest `secret_version` at its subject
   * and target made before it and the oldest made at or after it (the limits of what the
   * claim owns). `claims` are the range's successful `apply` reports with a fingerprint,
   * read in the same snapshot; PostgreSQL finds them again in its query.
   */
  forRules(range: SubjectRange, claims: readonly ClaimPoint[]): Promise<Observation[]>;
  /** For each probe, the newest observation of its fact made at or before `at`. */
  atOrBefore(probes: readonly ObservationProbe[]): Promise<Observation[]>;
}

export interface ObservationWriter extends ObservationReader {
  insert(o: Observation, key: string, factKey: string, eventId: number): Promise<void>;
}
