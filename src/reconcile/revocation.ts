import type { Fulfilment } from '../fulfilment/fulfilment.js';
import type { ApprovedGrant } from './input.js';
import {
  exceptionEnd,
  inScopeTuples,
  placeAt,
  reportsAt,
  scopeCovers,
  type Indexes,
  type TimedObservation,
} from './indexes.js';

/**
 * True when another `grant`-action warrant for the same subject, covering `target`
 * (or every target), was in force when `o` was observed and its scope covers the
 * observed grant: the presence is then that renewal's, not a failure to revoke.
 */
function renewedAt(idx: Indexes, g: ApprovedGrant, target: string, o: TimedObservation): boolean {
  const fact = o.obs.fact;
  if (fact.kind !== 'grant') return false;
  const others = [
    ...(placeAt(idx, g.subject, target)?.grantWarrants ?? []),
    ...(idx.untargeted.get(g.subject)?.warrants ?? []),
  ];
  return others.some(
    (w) =>
      w.warrantId !== g.warrantId &&
      Date.parse(w.notBefore) <= o.t &&
      o.t < exceptionEnd(w) &&
      scopeCovers(w.scope, fact.resource, fact.permission),
  );
}

/**
 * Where a time-boxed grant stands at one target: shared by the
 * `EXPIRED_NOT_REVOKED` rule and the exceptions report, so they never disagree.
 */
export interface TargetRevocation {
  readonly target: string;
  /** The end of the exception: `notAfter`, or `revokedAt` when the warrant was revoked earlier. */
  readonly end: number;
  readonly windowEnded: boolean;
  readonly applies: readonly Fulfilment[];
  readonly revokes: readonly Fulfilment[];
  /** Latest observations of in-scope grant tuples that show the grant present. */
  readonly latestPresent: readonly TimedObservation[];
  /** Of those, the ones observed strictly after `end` that no renewal accounts for. */
  readonly presentAfterEnd: readonly TimedObservation[];
  /** Whether a `revoke` fulfilment is needed at all (see {@link revocationAt}). */
  readonly required: boolean;
  /** The `EXPIRED_NOT_REVOKED` condition, once `windowEnded`. */
  readonly outstanding: boolean;
}

/**
 * Evaluates one target of a `grant`-action warrant at `now`.
 *
 * - The exception ends at `notAfter`, or at `revokedAt` if the warrant was revoked
 *   before that.
 * - A revocation is required at every target of a warrant whose window ran its
 *   course. For a warrant revoked early it is required only where the grant was
 *   reported applied or has been observed present: a warrant revoked before use
 *   leaves nothing to take away.
 * - The target is outstanding while an in-scope grant tuple's latest observation
 *   shows it present after the end, or while a required revocation is unreported.
 *   A presence seen while another grant warrant for the same subject and target
 *   was in force and covers it (a renewal) does not count.
 */
export function revocationAt(
  grant: ApprovedGrant,
  target: string,
  idx: Indexes,
  now: Date,
): TargetRevocation {
  const end = exceptionEnd(grant);
  const early = end < Date.parse(grant.notAfter);
  const { applied: applies, revoked: revokes } = reportsAt(idx, grant.warrantId, target);
  const latestPresent = inScopeTuples(grant.scope, placeAt(idx, grant.subject, target))
    .map((t) => t.latest)
    .filter((o) => o.obs.fact.kind === 'grant' && o.obs.fact.present);
  const presentAfterEnd = latestPresent.filter(
    (o) => o.t > end && !renewedAt(idx, grant, target, o),
  );
  const required = !early || applies.length > 0 || latestPresent.length > 0;
  return {
    target,
    end,
    windowEnded: now.getTime() >= end,
    applies,
    revokes,
    latestPresent,
    presentAfterEnd,
    required,
    outstanding: presentAfterEnd.length > 0 || (required && revokes.length === 0),
  };
}
