import { formatDuration } from '../core/duration.js';
import type { Fulfilment } from '../fulfilment/fulfilment.js';
import { confirmationOf, observedBy, versionOf } from './claims.js';
import { findingKey } from './finding.js';
import { evidence, type ApprovedGrant, type FindingSink } from './input.js';
import {
  claimsVersion,
  placeAt,
  redemptionsAt,
  reportsAt,
  targetsOf,
  type Indexes,
  type Place,
  type TimedObservation,
} from './indexes.js';
import { revocationAt } from './revocation.js';

/** One target of a rotation observed on its new version: the first such, by observation time. */
interface Confirmation {
  readonly f: Fulfilment;
  readonly seen: TimedObservation;
  /** The version the target showed before the claim, if it was observed. */
  readonly replaced: string | null;
}

/**
 * The earliest confirmed target of a `rotate` or `custom` warrant: a `success`
 * `apply` there whose claimed version an observation it owns shows. Null when no
 * target is confirmed yet.
 */
function firstConfirmation(idx: Indexes, g: ApprovedGrant): Confirmation | null {
  let best: Confirmation | null = null;
  for (const target of targetsOf(g)) {
    const place = placeAt(idx, g.subject, target);
    if (place === undefined) continue;
    for (const f of reportsAt(idx, g.warrantId, target).applied) {
      if (f.fingerprint === null) continue;
      const t = Date.parse(f.at);
      const seen = confirmationOf(place, { f, fingerprint: f.fingerprint, t });
      if (seen === undefined || (best !== null && !(seen.t < best.seen.t))) continue;
      const before = observedBy(place, t - 1);
      best = { f, seen, replaced: before === undefined ? null : versionOf(before) };
    }
  }
  return best;
}

/** A target still on the old version `grace` after another target's new version was seen. */
interface Drift {
  readonly confirmation: Confirmation;
  /** What the target showed when the rotation was confirmed elsewhere, if observed by then. */
  readonly before: TimedObservation | undefined;
  readonly still: TimedObservation;
}

/**
 * The target's latest `secret_version` observation, when it was made at least `grace`
 * after the confirmation and `now` is that late too: the sighting drift is judged on.
 */
function laggingAt(
  idx: Indexes,
  g: ApprovedGrant,
  target: string,
  c: Confirmation,
  now: number,
  grace: number,
): { readonly place: Place; readonly still: TimedObservation } | null {
  const due = c.seen.t + grace;
  if (now < due) return null;
  const place = placeAt(idx, g.subject, target);
  const still = place?.versions[place.versions.length - 1];
  return place === undefined || still === undefined || still.t < due ? null : { place, still };
}

/**
 * In-window drift at `target`: its latest `secret_version` observation was made at
 * least `grace` after the confirmation (and `now` is that late too), and shows an
 * old version: the one the target itself showed when the confirmation was seen, or
 * the one the confirmed target showed before its rotation. A version this warrant
 * claims anywhere is never old.
 */
function driftAt(
  idx: Indexes,
  g: ApprovedGrant,
  target: string,
  c: Confirmation,
  now: number,
  grace: number,
): Drift | null {
  const lagging = laggingAt(idx, g, target, c, now, grace);
  if (lagging === null) return null;
  const { place, still } = lagging;
  const fp = versionOf(still);
  const claimed = targetsOf(g).some((t) =>
    reportsAt(idx, g.warrantId, t).applied.some((f) => f.fingerprint === fp),
  );
  const before = observedBy(place, c.seen.t);
  const old = [c.replaced, before === undefined ? null : versionOf(before)];
  return fp !== null && !claimed && old.includes(fp) ? { confirmation: c, before, still } : null;
}

/**
 * Whether a grant's window has ended (and was not withdrawn before), and, inside the
 * window of a rotation, its first confirmed target while drift may still be judged
 * against it (the warrant was not revoked before the grace ran out).
 */
function windowOf(
  idx: Indexes,
  g: ApprovedGrant,
  now: Date,
  graceMs: number,
): { readonly ended: boolean; readonly inForce: Confirmation | null } {
  const notAfter = Date.parse(g.notAfter);
  const revokedAt = g.revokedAt === null ? Number.POSITIVE_INFINITY : Date.parse(g.revokedAt);
  const ended = now.getTime() >= notAfter && !(revokedAt < notAfter);
  const confirmed = !ended && claimsVersion(g) ? firstConfirmation(idx, g) : null;
  const inForce = confirmed !== null && !(revokedAt < confirmed.seen.t + graceMs);
  return { ended, inForce: inForce ? confirmed : null };
}

/**
 * The instants at which drift looks back into a lagging target's history: for each
 * approved target without a successful report whose latest sighting is late enough to
 * be judged, the time its rotation was confirmed elsewhere (what the target showed
 * then, see `driftAt`). A reader that holds only part of each history (see
 * docs/decisions/0024) fetches the newest observation at or before each of these.
 */
export function driftLookups(
  idx: Indexes,
  now: Date,
  graceMs: number,
): { readonly subject: string; readonly target: string; readonly at: number }[] {
  const out: { subject: string; target: string; at: number }[] = [];
  for (const g of idx.grants.values()) {
    const { inForce } = windowOf(idx, g, now, graceMs);
    if (inForce === null) continue;
    for (const target of targetsOf(g)) {
      if (reportsAt(idx, g.warrantId, target).applied.length > 0) continue;
      if (laggingAt(idx, g, target, inForce, now.getTime(), graceMs) === null) continue;
      out.push({ subject: g.subject, target, at: inForce.seen.t });
    }
  }
  return out;
}

/**
 * `UNFULFILLED_TARGET`, for every approved target without a `success` `apply`
 * fulfilment (a late success clears it):
 *
 * - once the window has ended (`now >= notAfter`), unless the warrant was revoked
 *   before `notAfter` (its approval was withdrawn);
 * - inside the window, for a `rotate` or `custom` warrant, as soon as another target
 *   was observed on its new version and this one is still observed on the old
 *   version `graceMs` later (drift), unless the warrant was revoked before then.
 *   A rotation approved for 8 hours does not take 8 hours to surface.
 *
 * Both cite the `warrant.issued` event, the target's allowed redemptions and its
 * failed fulfilments; drift also cites the confirming fulfilment and observation and
 * the target's stale observations. One key per (warrant, target): never both.
 */
export function unfulfilledTargets(
  idx: Indexes,
  now: Date,
  graceMs: number,
  sink: FindingSink,
): void {
  for (const g of idx.grants.values()) {
    const { ended, inForce: confirmed } = windowOf(idx, g, now, graceMs);
    const inForce = confirmed !== null;
    for (const target of targetsOf(g)) {
      const key = findingKey.unfulfilledTarget(g.warrantId, target);
      const reports = reportsAt(idx, g.warrantId, target);
      const done = reports.applied[0];
      if (done !== undefined) {
        sink.cleared(key, `condition cleared: fulfilment ${done.id} reported ${target} done`);
        continue;
      }
      const drift =
        inForce && confirmed !== null
          ? driftAt(idx, g, target, confirmed, now.getTime(), graceMs)
          : null;
      if (!ended && drift === null) continue;
      const approved = `the ${g.action} of warrant ${g.warrantId} for ${g.subject} was approved for target ${target}`;
      const base = {
        warrants: [g.warrantId],
        redemptions: redemptionsAt(idx, g.warrantId, target).map((r) => r.id),
        fulfilments: reports.failed.map((f) => f.id),
      };
      sink.holds({
        kind: 'UNFULFILLED_TARGET',
        key,
        requestId: g.requestId,
        warrantId: g.warrantId,
        subject: g.subject,
        target,
        detail:
          drift === null
            ? `${approved}, but no successful fulfilment was reported there before the window ended at ${g.notAfter}`
            : `${approved}; ${drift.confirmation.f.target} was observed on its new version at ` +
              `${drift.confirmation.seen.obs.observedAt}, but ${target} was still observed on the old version at ` +
              `${drift.still.obs.observedAt}, more than ${formatDuration(graceMs)} later, and no successful fulfilment was reported there`,
        evidence: evidence(
          drift === null
            ? base
            : {
                ...base,
                fulfilments: [drift.confirmation.f.id, ...base.fulfilments],
                observations: [
                  drift.confirmation.seen.obs.id,
                  ...(drift.before === undefined ? [] : [drift.before.obs.id]),
                  drift.still.obs.id,
                ],
              },
        ),
      });
    }
  }
}

/**
 * `EXPIRED_NOT_REVOKED`: for each `grant`-action warrant whose exception has ended,
 * each target where the grant is still observed present after the end, or where a
 * required `success` `revoke` fulfilment is missing or not yet observed (see
 * `revocationAt`). It clears once a revocation is reported, an observation after the
 * end shows the grant gone, and none shows it present. It cites the `warrant.issued`
 * event, the target's apply and revoke fulfilments and the latest observation of
 * each in-scope grant.
 */
export function expiredNotRevoked(idx: Indexes, now: Date, sink: FindingSink): void {
  for (const g of idx.grants.values()) {
    if (g.action !== 'grant') continue;
    for (const target of targetsOf(g)) {
      const st = revocationAt(g, target, idx, now);
      if (!st.windowEnded) continue;
      const key = findingKey.expiredNotRevoked(g.warrantId, target);
      if (!st.outstanding) {
        const by = st.revokes[0];
        sink.cleared(
          key,
          by === undefined
            ? `condition cleared: nothing was applied at ${target} before the warrant was revoked`
            : `condition cleared: fulfilment ${by.id} revoked the grant at ${target} and it is observed gone`,
        );
        continue;
      }
      const seen = st.presentAfterEnd.map((o) => o.obs);
      const why =
        seen.length > 0
          ? `is still observed present after it (${seen
              .slice(0, 3)
              .map((o) =>
                o.fact.kind === 'grant' ? `${o.fact.permission} on ${o.fact.resource}` : '',
              )
              .join(', ')})`
          : st.revokes.length === 0
            ? 'no revocation was reported'
            : 'a revocation was reported, but no observation after the end shows the grant gone';
      sink.holds({
        kind: 'EXPIRED_NOT_REVOKED',
        key,
        requestId: g.requestId,
        warrantId: g.warrantId,
        subject: g.subject,
        target,
        detail: `the time-boxed grant of warrant ${g.warrantId} to ${g.subject} at ${target} ended at ${new Date(st.end).toISOString()} and ${why}`,
        evidence: evidence({
          warrants: [g.warrantId],
          fulfilments: [...st.applies, ...st.revokes].map((f) => f.id),
          observations: st.latest.map((o) => o.obs.id),
        }),
      });
    }
  }
}
