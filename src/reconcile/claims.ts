import type { Claim, Place, TimedObservation } from './indexes.js';

/**
 * The secret-version timeline of one place: claimed versions (successful `apply`
 * reports) against observed versions. A claim owns the observations made from its
 * time until the next claim there, so a later approved rotation never makes an
 * earlier one look false. Every look-up is a binary search over sorted lists.
 */

/** The fingerprint an observation shows, or null for a grant observation. */
export const versionOf = (o: TimedObservation): string | null =>
  o.obs.fact.kind === 'secret_version' ? o.obs.fact.fingerprint : null;

/** The first index of ascending `xs` whose key is greater than `x` (`orEqual`: not less). */
function firstAfter<T>(
  xs: readonly T[],
  key: (v: T) => number,
  x: number,
  orEqual = false,
): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = key(xs[mid] as T);
    if (k > x || (orEqual && k === x)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const claimTime = (c: Claim): number => c.t;
const observedTime = (o: TimedObservation): number => o.t;

/** The observations owned by a claim made at `t`: from `t` until the next claim after it. */
export function ownedBy(place: Place, t: number): readonly TimedObservation[] {
  const next = place.claims[firstAfter(place.claims, claimTime, t)]?.t ?? Number.POSITIVE_INFINITY;
  const from = firstAfter(place.versions, observedTime, t, true);
  const to = firstAfter(place.versions, observedTime, next, true);
  return place.versions.slice(from, to);
}

/** The first observation a claim owns that shows its fingerprint: the claim confirmed. */
export const confirmationOf = (place: Place, claim: Claim): TimedObservation | undefined =>
  ownedBy(place, claim.t).find((o) => versionOf(o) === claim.fingerprint);

/** The latest observation at `place` made at or before `t`. */
export const observedBy = (place: Place, t: number): TimedObservation | undefined =>
  place.versions[firstAfter(place.versions, observedTime, t) - 1];

/** The latest claim at `place` made at or before `t`: the version approved there then. */
export const claimBy = (place: Place, t: number): Claim | undefined =>
  place.claims[firstAfter(place.claims, claimTime, t) - 1];

/**
 * How far a collector's clock may run behind the server's: a change seen "before" the
 * redemption that made it by at most this much is still the redemption's.
 */
export const CLOCK_SKEW_MS = 60_000;

/**
 * The claim that explains a change to `fingerprint` first seen at `t`, the version
 * before it having been seen at `prevT`: a claim of that fingerprint made between
 * the two observations, or the latest claim before the change (a collector may lag
 * behind a report), or the first claim after it (a report may lag behind a
 * collector). A claim of the same fingerprint outside these, such as the version a
 * rotation replaced, does not explain it: going back to it is a change of its own.
 *
 * A report may lag, but the use it reports may not: only a claim `admits` allows
 * explains the change (see `unapprovedVersions`: one redeemed after the change was
 * seen, or whose warrant had ended while the old version was still seen, does not).
 */
export function explainingClaim(
  place: Place,
  prevT: number,
  t: number,
  fingerprint: string,
  admits: (c: Claim) => boolean = () => true,
): Claim | undefined {
  const claims = place.claims;
  const after = firstAfter(claims, claimTime, t);
  const latest = claims[after - 1]?.t;
  const next = claims[after]?.t;
  // Claims made at the same instant form one group: each may explain the change.
  const from = Math.min(
    firstAfter(claims, claimTime, prevT),
    latest === undefined ? after : firstAfter(claims, claimTime, latest, true),
  );
  const to = next === undefined ? after : firstAfter(claims, claimTime, next);
  for (let i = from; i < to; i++) {
    const c = claims[i] as Claim;
    if (c.fingerprint === fingerprint && admits(c)) return c;
  }
  return undefined;
}
