import type { Fulfilment } from '../fulfilment/fulfilment.js';
import type { Observation } from '../observation/observation.js';
import type { Scope } from '../core/scope.js';
import { capEvidence, type ApprovedGrant, type RedemptionRecord } from './input.js';
import { buildIndexes, targetsOf } from './indexes.js';
import { revocationAt } from './revocation.js';

/**
 * The exceptions report: every `grant`-action warrant is a time-boxed exception to
 * standing access. For each one it says, per target, whether the grant was taken
 * away again, whether that was seen, whether it was late, and whether it is still
 * seen, using the same evaluation as the `EXPIRED_NOT_REVOKED` finding.
 */

export type ExceptionStatus = 'revoked' | 'active' | 'expired_not_revoked';

export interface ExceptionTarget {
  readonly target: string;
  /** A `success` `revoke` fulfilment exists for this warrant and target. */
  readonly revoked: boolean;
  /** When the first revocation was reported, or null. */
  readonly revocationReportedAt: string | null;
  /** The first revocation was reported after the exception ended. */
  readonly late: boolean;
  /**
   * An observation made after the exception ended shows the grant absent (or handed
   * to a renewal), and no in-scope grant was last seen present: without it a
   * reported revocation does not settle the exception.
   */
  readonly observedGone: boolean;
  /**
   * Once the exception has ended: an in-scope grant's latest observation shows it
   * present after the end. Before that: the latest observation shows it present.
   */
  readonly stillObserved: boolean;
  readonly windowEnded: boolean;
  /** False only for a warrant revoked early where nothing was applied or seen. */
  readonly revocationRequired: boolean;
  readonly evidence: {
    readonly fulfilments: readonly string[];
    readonly observations: readonly string[];
  };
}

export interface ExceptionEntry {
  readonly requestId: string;
  readonly warrantId: string;
  readonly subject: string;
  readonly environment: string;
  readonly scope: Scope;
  readonly notBefore: string;
  readonly notAfter: string;
  /** When the exception ended or ends: `notAfter`, or an earlier warrant revocation. */
  readonly endsAt: string;
  readonly targets: readonly ExceptionTarget[];
  /** Some target's revocation was reported after the exception ended. */
  readonly lateRevocation: boolean;
  /**
   * - `revoked`: every target that needs it reports a revocation, an observation
   *   after the end shows it gone there, and none is still observed;
   * - `expired_not_revoked`: the exception has ended and some target is outstanding
   *   (exactly when reconcile raises or keeps `EXPIRED_NOT_REVOKED` for it);
   * - `active`: the exception has not ended and is not yet fully revoked.
   */
  readonly status: ExceptionStatus;
}

/**
 * Lists every `grant`-action warrant in input order with its per-target revocation
 * state. Pure; linear in the inputs like {@link reconcile}.
 *
 * @example
 * exceptionsReport(grants, fulfilments, observations, now)
 *   .filter((e) => e.status === 'expired_not_revoked');
 */
export function exceptionsReport(
  grants: readonly ApprovedGrant[],
  fulfilments: readonly Fulfilment[],
  observations: readonly Observation[],
  now: Date,
  redemptions: readonly RedemptionRecord[] = [],
): ExceptionEntry[] {
  const idx = buildIndexes(grants, fulfilments, observations, redemptions);
  const out: ExceptionEntry[] = [];
  for (const g of idx.grants.values()) {
    if (g.action !== 'grant') continue;
    const states = targetsOf(g).map((t) => revocationAt(g, t, idx, now));
    const targets = states.map((st): ExceptionTarget => ({
      target: st.target,
      revoked: st.revokes.length > 0,
      revocationReportedAt: st.revokes[0]?.at ?? null,
      late: st.late,
      observedGone: st.observedGone,
      stillObserved: (st.windowEnded ? st.presentAfterEnd : st.latestPresent).length > 0,
      windowEnded: st.windowEnded,
      revocationRequired: st.required,
      evidence: {
        fulfilments: capEvidence([...st.applies, ...st.revokes].map((f) => f.id)),
        observations: capEvidence(st.latest.map((o) => o.obs.id)),
      },
    }));
    const ended = states.every((s) => s.windowEnded);
    // The same condition as EXPIRED_NOT_REVOKED, so the report and the findings agree.
    const settled = states.every((st) => !st.outstanding);
    const status: ExceptionStatus = settled ? 'revoked' : ended ? 'expired_not_revoked' : 'active';
    const end = states[0]?.end ?? Date.parse(g.notAfter);
    out.push({
      requestId: g.requestId,
      warrantId: g.warrantId,
      subject: g.subject,
      environment: g.environment,
      scope: g.scope,
      notBefore: g.notBefore,
      notAfter: g.notAfter,
      endsAt: new Date(end).toISOString(),
      targets,
      lateRevocation: targets.some((t) => t.late),
      status,
    });
  }
  return out;
}
