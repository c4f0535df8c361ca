import type { Scope } from '../core/scope.js';
import type { Fulfilment } from '../fulfilment/fulfilment.js';
import { hasWildcard, scopeCovers } from './coverage.js';
import type { ApprovedGrant } from './input.js';
import {
  placeAt,
  redemptionsAt,
  reportsAt,
  type GrantTuple,
  type Indexes,
  type Place,
  type TimedObservation,
} from './indexes.js';

/**
 * When a grant's exception ends: `notAfter`, or `revokedAt` if the warrant was
 * revoked before that.
 */
export function exceptionEnd(g: ApprovedGrant): number {
  const notAfter = Date.parse(g.notAfter);
  const revokedAt = g.revokedAt === null ? Number.NaN : Date.parse(g.revokedAt);
  return revokedAt < notAfter ? revokedAt : notAfter;
}

/**
 * The grant tuples observed at `place` that `scope` covers. A scope of concrete
 * names is answered by direct look-ups; only wildcard entries scan the tuples, and
 * only those of this one subject and target.
 */
export function inScopeTuples(scope: Scope, place: Place | undefined): GrantTuple[] {
  if (!place) return [];
  if (scope.some((e) => hasWildcard(e.resource))) {
    const all = [...place.tuples.values()].flatMap((byPerm) => [...byPerm.values()]);
    return all.filter((t) => scopeCovers(scope, t.resource, t.permission));
  }
  const found = new Set<GrantTuple>();
  for (const e of scope) {
    const byPerm = place.tuples.get(e.resource);
    for (const p of e.permissions) {
      const t = byPerm?.get(p);
      if (t) found.add(t);
    }
  }
  return [...found];
}

/**
 * True when another `grant`-action warrant for the same subject, covering `target`,
 * was in force when `o` was observed and its scope covers the
 * observed grant: the presence is then that renewal's, not a failure to revoke.
 */
function renewedAt(idx: Indexes, g: ApprovedGrant, target: string, o: TimedObservation): boolean {
  const fact = o.obs.fact;
  if (fact.kind !== 'grant') return false;
  const others = placeAt(idx, g.subject, target)?.grantWarrants ?? [];
  return others.some(
    (w) =>
      w.warrantId !== g.warrantId &&
      Date.parse(w.notBefore) <= o.t &&
      // Its own end instant is inside the renewal's window, as it is for a redemption.
      o.t <= exceptionEnd(w) &&
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
  /** Successful revocations, earliest report first. */
  readonly revokes: readonly Fulfilment[];
  /** The latest observation of each in-scope grant tuple. */
  readonly latest: readonly TimedObservation[];
  /** Of those, the ones that show the grant present. */
  readonly latestPresent: readonly TimedObservation[];
  /** Of those, the ones observed strictly after `end` that no renewal accounts for. */
  readonly presentAfterEnd: readonly TimedObservation[];
  /**
   * An observation after `end` shows the grant absent (or handed to a renewal), and
   * no in-scope grant was last seen present, whether before or after the end.
   */
  readonly observedGone: boolean;
  /**
   * The first revocation was reported after the approved window (`notAfter`) ended: the
   * grant outlived what was approved. A warrant revoked early is revoked late only past
   * `notAfter` too, since no report can come at the very instant of the revocation.
   */
  readonly late: boolean;
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
 * - A revocation is required where the grant was reported applied or has been observed
 *   present. For a warrant whose window ran its course it is also required where a
 *   use was redeemed, and everywhere until the window ends. A target never redeemed,
 *   applied or seen holding the grant once the exception ended has nothing to take
 *   away, and could not be reported revoked anyway: a revocation is reported against
 *   a receipt for that target, and none can be redeemed after the window.
 * - Where it is required, a report is not enough: the exception is settled only
 *   once an observation made after the end shows the grant absent (see
 *   `observedGone`). An executor's word that it revoked is a claim, not a fact.
 * - The target is outstanding while an in-scope grant tuple's latest observation
 *   shows it present after the end, or while a required revocation is unreported
 *   or not yet observed. A presence seen while another grant warrant for the same
 *   subject and target was in force and covers it (a renewal) does not count.
 */
export function revocationAt(
  grant: ApprovedGrant,
  target: string,
  idx: Indexes,
  now: Date,
): TargetRevocation {
  const end = exceptionEnd(grant);
  const early = end < Date.parse(grant.notAfter);
  const reports = reportsAt(idx, grant.warrantId, target);
  const applies = reports.applied;
  const revokes = [...reports.revoked].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const latest = inScopeTuples(grant.scope, placeAt(idx, grant.subject, target)).map(
    (t) => t.latest,
  );
  const present = (o: TimedObservation): boolean =>
    o.obs.fact.kind === 'grant' && o.obs.fact.present;
  const latestPresent = latest.filter(present);
  const renewed = (o: TimedObservation): boolean => renewedAt(idx, grant, target, o);
  const presentAfterEnd = latestPresent.filter((o) => o.t > end && !renewed(o));
  const goneAfterEnd = latest.filter((o) => o.t > end && (!present(o) || renewed(o)));
  const unseenSinceEnd = latestPresent.filter((o) => o.t <= end);
  const observedGone =
    goneAfterEnd.length > 0 && unseenSinceEnd.length === 0 && presentAfterEnd.length === 0;
  const windowEnded = now.getTime() >= end;
  const used = applies.length > 0 || latestPresent.length > 0;
  const redeemed = redemptionsAt(idx, grant.warrantId, target).length > 0;
  const required = used || (!early && (!windowEnded || redeemed));
  const first = revokes[0];
  return {
    target,
    end,
    windowEnded,
    applies,
    revokes,
    latest,
    latestPresent,
    presentAfterEnd,
    observedGone,
    late: first !== undefined && Date.parse(first.at) > Date.parse(grant.notAfter),
    required,
    outstanding:
      presentAfterEnd.length > 0 || (required && (revokes.length === 0 || !observedGone)),
  };
}
