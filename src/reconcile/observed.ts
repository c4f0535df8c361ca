import type { Fulfilment } from '../fulfilment/fulfilment.js';
import {
  claimBy,
  CLOCK_SKEW_MS,
  confirmationOf,
  explainingClaim,
  ownedBy,
  versionOf,
} from './claims.js';
import { coverageCovers, scopeCovers } from './coverage.js';
import { findingKey } from './finding.js';
import { evidence, type FindingSink } from './input.js';
import { exceptionEnd } from './revocation.js';
import {
  claimsVersion,
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

/** The redemption whose receipt a fulfilment was reported against, as evidence. */
const receiptOf = (idx: Indexes, f: Fulfilment): string[] => {
  const r = idx.receipts.get(f.receiptId);
  return r === undefined ? [] : [r.id];
};

/**
 * `FULFILMENT_MISMATCH`: a `success` `apply` fulfilment of a `rotate` or `custom`
 * warrant claiming fingerprint F at (subject, target), where the observations it
 * owns (made at or after it, and before the next claim there) exist and none shows
 * F: the claim was never confirmed. Once one does, the claim is confirmed and the
 * finding clears; a different version seen after that is a change of its own, an
 * `UNAPPROVED_CHANGE`, and is not reported twice. Fingerprints are public digests:
 * plain comparison.
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
    const claim = { f, fingerprint: f.fingerprint, t: Date.parse(f.at) };
    const owned = ownedBy(place, claim.t);
    const latest = owned[owned.length - 1];
    if (latest === undefined) continue;
    const key = findingKey.fulfilmentMismatch(f.id);
    const confirmed = confirmationOf(place, claim);
    if (confirmed !== undefined) {
      sink.cleared(
        key,
        `condition cleared: observation ${confirmed.obs.id} shows the claimed version`,
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
        `but it was observed at ${latest.obs.observedAt} with version ${versionOf(latest) ?? 'unknown'}`,
      evidence: evidence({
        warrants: [f.warrantId],
        redemptions: receiptOf(idx, f),
        fulfilments: [f.id],
        observations: [latest.obs.id],
      }),
    });
  }
}

/**
 * `UNAPPROVED_CHANGE` of a secret: per (subject, target), in observation order, the
 * first `secret_version` is the baseline and every later change of fingerprint must
 * be explained by a `success` `apply` of a `rotate` or `custom` warrant claiming it
 * there, made around the change (see `explainingClaim`). A claim that arrives after
 * the observation clears the finding, since collectors may see a rotation before its
 * executor reports it, but only if its use was redeemed before the change was seen (a
 * rotation approved after the fact does not explain it) and the old version was not
 * still seen after its warrant ended (revoked early, or past its window). Going back to a version an earlier rotation replaced is a
 * change no claim explains.
 */
export function unapprovedVersions(idx: Indexes, sink: FindingSink): void {
  for (const place of allPlaces(idx)) {
    const list = place.versions;
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1] as TimedObservation;
      const cur = list[i] as TimedObservation;
      const fp = versionOf(cur);
      if (fp === null || fp === versionOf(prev)) continue;
      const { subject, target } = place;
      const key = findingKey.unapprovedVersion(subject, target, fp);
      const claim = explainingClaim(place, prev.t, cur.t, fp, (c) => {
        // Redeemed after the change was seen: approved after the fact.
        const r = idx.receipts.get(c.f.receiptId);
        if (r !== undefined && Date.parse(r.at) > cur.t + CLOCK_SKEW_MS) return false;
        // The old version still seen after the warrant ended: changed outside its window.
        const g = idx.grants.get(c.f.warrantId);
        return g === undefined || prev.t <= exceptionEnd(g) + CLOCK_SKEW_MS;
      });
      if (claim !== undefined) {
        sink.cleared(key, `condition cleared: fulfilment ${claim.f.id} claims the change`);
        continue;
      }
      // The claim in force when the change was seen: the approved version it replaced.
      const approved = claimBy(place, cur.t)?.f;
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
        evidence: evidence({
          warrants: approved === undefined ? [] : [approved.warrantId],
          fulfilments: approved === undefined ? [] : [approved.id],
          observations: [prev.obs.id, cur.obs.id],
        }),
      });
    }
  }
}

const presentEvidence = (t: GrantTuple): string[] =>
  [t.firstPresent, t.lastPresent].flatMap((o) => (o === null ? [] : [o.obs.id]));

/**
 * Observed grants (`present: true` at any time) judged against the grant-action
 * warrants of the subject, in force or not:
 *
 * - `UNAPPROVED_CHANGE` when no such warrant covers the target (its targets include
 *   it; one that names no targets covers only `default`), or when the grant was first
 *   seen before the window of every warrant whose scope covers it had opened;
 * - `SCOPE_EXCEEDED_OBSERVED` when some do, but no scope entry lists the permission
 *   on a pattern containing the observed resource. A wildcard observation such as
 *   `db/*` is broader than a `db/orders` entry, so it exceeds it.
 *
 * These report history, so they are resolved by people, never automatically. Both
 * cite the first and last observations showing the grant present; a scope finding
 * also cites the warrants whose scopes it was judged against.
 */
export function observedGrants(idx: Indexes, sink: FindingSink): void {
  for (const place of allPlaces(idx)) {
    const { subject, target } = place;
    const coverage = place.coverage;
    const judgedBy = place.grantWarrants.map((w) => w.warrantId);
    for (const t of [...place.tuples.values()].flatMap((byPerm) => [...byPerm.values()])) {
      if (t.firstPresent === null) continue;
      const base = { requestId: null, warrantId: null, subject, target };
      const observations = presentEvidence(t);
      const what = `${t.permission} on ${t.resource} held by ${subject} at ${target}`;
      const unapprovedKey = findingKey.unapprovedGrant(subject, target, t.resource, t.permission);
      const scopeKey = findingKey.scopeExceeded(subject, target, t.resource, t.permission);
      // One fact, one finding: a grant raised as exceeding an untargeted warrant's scope
      // before decision 0036 keeps that finding rather than gaining an unapproved one.
      if (coverage === null) {
        sink.holds(
          {
            ...base,
            kind: 'UNAPPROVED_CHANGE',
            key: unapprovedKey,
            detail: `${what} was observed, but no grant was ever approved for ${subject} there`,
            evidence: evidence({ observations }),
          },
          [scopeKey],
        );
        continue;
      }
      if (coverageCovers(coverage, t.resource, t.permission)) {
        // Covered, but held before any covering window opened: access no one had approved yet.
        const covering = place.grantWarrants.filter((w) =>
          scopeCovers(w.scope, t.resource, t.permission),
        );
        const opens = Math.min(...covering.map((w) => Date.parse(w.notBefore)));
        if (t.firstPresent.t + CLOCK_SKEW_MS < opens) {
          sink.holds(
            {
              ...base,
              kind: 'UNAPPROVED_CHANGE',
              key: unapprovedKey,
              detail:
                `${what} was observed at ${t.firstPresent.obs.observedAt}, before any approved ` +
                `grant covering it began (${new Date(opens).toISOString()})`,
              evidence: evidence({ warrants: covering.map((w) => w.warrantId), observations }),
            },
            [scopeKey],
          );
        }
        continue;
      }
      // Raised as unapproved before any warrant named this target, it stays that one finding.
      sink.holds(
        {
          ...base,
          kind: 'SCOPE_EXCEEDED_OBSERVED',
          key: scopeKey,
          detail: `${what} was observed, and no approved grant scope covers it`,
          evidence: evidence({ warrants: judgedBy, observations }),
        },
        [unapprovedKey],
      );
    }
  }
}
