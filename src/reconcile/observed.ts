import type { Fulfilment } from '../fulfilment/fulfilment.js';
import { findingKey } from './finding.js';
import { capEvidence, type FindingSink } from './input.js';
import {
  claimsVersion,
  coverageCovers,
  placeAt,
  type GrantTuple,
  type Indexes,
  type Place,
  type TimedObservation,
} from './indexes.js';

/** Every place, subject by subject. */
function* allPlaces(idx: Indexes): Generator<Place> {
  for (const bySubject of idx.places.values()) yield* bySubject.values();
}

const fingerprintOf = (o: TimedObservation): string | null =>
  o.obs.fact.kind === 'secret_version' ? o.obs.fact.fingerprint : null;

/** The first value in ascending `times` greater than `x`, or +Infinity. */
function nextAfter(times: readonly number[], x: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((times[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return times[lo] ?? Number.POSITIVE_INFINITY;
}

/** The last of the time-ordered `list` observed strictly before `limit`. */
function lastBefore(
  list: readonly TimedObservation[],
  limit: number,
): TimedObservation | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as TimedObservation).t < limit) lo = mid + 1;
    else hi = mid;
  }
  return list[lo - 1];
}

/**
 * `FULFILMENT_MISMATCH`: a `success` `apply` fulfilment of a `rotate` or `custom`
 * warrant claiming fingerprint F at (subject, target), where the latest `secret_version` observation there made at or
 * after the fulfilment shows another fingerprint. Observations made after the next
 * claimed change at the same subject and target belong to that claim instead, so a
 * later approved rotation never makes an earlier one look false. A newer observation
 * showing F clears the finding. Fingerprints are public digests: plain comparison.
 */
export function fulfilmentMismatches(
  fulfilments: readonly Fulfilment[],
  idx: Indexes,
  sink: FindingSink,
): void {
  for (const f of fulfilments) {
    if (f.outcome !== 'success' || f.phase !== 'apply' || f.fingerprint === null) continue;
    if (!claimsVersion(idx.grants.get(f.warrantId))) continue;
    const place = placeAt(idx, f.subject, f.target);
    if (place === undefined) continue;
    const claimedAt = Date.parse(f.at);
    const latest = lastBefore(place.versions, nextAfter(place.claimTimes, claimedAt));
    if (latest === undefined || !(latest.t >= claimedAt)) continue;
    const key = findingKey.fulfilmentMismatch(f.id);
    const seen = fingerprintOf(latest);
    if (seen === f.fingerprint) {
      sink.cleared(
        key,
        `condition cleared: observation ${latest.obs.id} shows the claimed version`,
      );
      continue;
    }
    sink.holds({
      kind: 'FULFILMENT_MISMATCH',
      key,
      requestId: f.requestId,
      warrantId: f.warrantId,
      subject: f.subject,
      target: f.target,
      detail:
        `fulfilment ${f.id} claims ${f.subject} at ${f.target} now has version ${f.fingerprint}, ` +
        `but it was observed at ${latest.obs.observedAt} with version ${seen ?? 'unknown'}`,
      evidence: { fulfilments: [f.id], observations: [latest.obs.id], redemptions: [] },
    });
  }
}

/**
 * `UNAPPROVED_CHANGE` of a secret: per (subject, target), in observation order, the
 * first `secret_version` is the baseline and every later change of fingerprint must
 * be claimed by a `success` `apply` fulfilment of a `rotate` or `custom` warrant
 * with that fingerprint for that subject and target. A claim that arrives after the observation clears the finding, since
 * collectors may see a rotation before its executor reports it.
 */
export function unapprovedVersions(idx: Indexes, sink: FindingSink): void {
  for (const place of allPlaces(idx)) {
    const list = place.versions;
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1] as TimedObservation;
      const cur = list[i] as TimedObservation;
      const fp = fingerprintOf(cur);
      if (fp === null || fp === fingerprintOf(prev)) continue;
      const { subject, target } = place;
      const key = findingKey.unapprovedVersion(subject, target, fp);
      const claim = place.claims.get(fp)?.[0];
      if (claim !== undefined) {
        sink.cleared(key, `condition cleared: fulfilment ${claim.id} claims the change`);
        continue;
      }
      sink.holds({
        kind: 'UNAPPROVED_CHANGE',
        key,
        requestId: null,
        warrantId: null,
        subject,
        target,
        detail:
          `the secret of ${subject} at ${target} changed to version ${fp} (observed ${cur.obs.observedAt}) ` +
          'and no approved fulfilment claims that version',
        evidence: { fulfilments: [], observations: [prev.obs.id, cur.obs.id], redemptions: [] },
      });
    }
  }
}

const presentEvidence = (t: GrantTuple): string[] => {
  const seen = [t.firstPresent, t.lastPresent].flatMap((o) => (o === null ? [] : [o.obs.id]));
  return capEvidence([...new Set<string>(seen)]);
};

/**
 * Observed grants (`present: true` at any time) judged against the grant-action
 * warrants of the subject, in force or not:
 *
 * - `UNAPPROVED_CHANGE` when no such warrant covers the target (its targets include
 *   it, or it names no targets);
 * - `SCOPE_EXCEEDED_OBSERVED` when some do, but no scope entry lists the permission
 *   on a pattern containing the observed resource. A wildcard observation such as
 *   `db/*` is broader than a `db/orders` entry, so it exceeds it.
 *
 * These report history, so they are resolved by people, never automatically.
 */
export function observedGrants(idx: Indexes, sink: FindingSink): void {
  for (const place of allPlaces(idx)) {
    const { subject, target } = place;
    const targeted = place.coverage;
    const untargeted = idx.untargeted.get(subject)?.coverage;
    for (const t of [...place.tuples.values()].flatMap((byPerm) => [...byPerm.values()])) {
      if (t.firstPresent === null) continue;
      const base = { requestId: null, warrantId: null, subject, target };
      const evidence = { fulfilments: [], observations: presentEvidence(t), redemptions: [] };
      const what = `${t.permission} on ${t.resource} held by ${subject} at ${target}`;
      if (targeted === null && untargeted === undefined) {
        sink.holds({
          ...base,
          kind: 'UNAPPROVED_CHANGE',
          key: findingKey.unapprovedGrant(subject, target, t.resource, t.permission),
          detail: `${what} was observed, but no grant was ever approved for ${subject} there`,
          evidence,
        });
        continue;
      }
      if (coverageCovers(targeted, t.resource, t.permission)) continue;
      if (coverageCovers(untargeted, t.resource, t.permission)) continue;
      sink.holds({
        ...base,
        kind: 'SCOPE_EXCEEDED_OBSERVED',
        key: findingKey.scopeExceeded(subject, target, t.resource, t.permission),
        detail: `${what} was observed, and no approved grant scope covers it`,
        evidence,
      });
    }
  }
}
