import { findingKey } from './finding.js';
import { capEvidence, type FindingSink } from './input.js';
import { reportsAt, targetsOf, type Indexes } from './indexes.js';
import { revocationAt } from './revocation.js';

const ids = (xs: readonly { readonly id: string }[]): string[] => capEvidence(xs.map((x) => x.id));

/**
 * `UNFULFILLED_TARGET`: once a warrant's window has ended (`now >= notAfter`), every
 * approved target without a `success` `apply` fulfilment. Warrants revoked before
 * `notAfter` are skipped: their approval was withdrawn. A late success clears it.
 */
export function unfulfilledTargets(idx: Indexes, now: Date, sink: FindingSink): void {
  for (const g of idx.grants.values()) {
    const notAfter = Date.parse(g.notAfter);
    if (!(now.getTime() >= notAfter)) continue;
    if (g.revokedAt !== null && Date.parse(g.revokedAt) < notAfter) continue;
    for (const target of targetsOf(g)) {
      const key = findingKey.unfulfilledTarget(g.warrantId, target);
      const done = reportsAt(idx, g.warrantId, target).applied;
      const first = done[0];
      if (first !== undefined) {
        sink.cleared(key, `condition cleared: fulfilment ${first.id} reported ${target} done`);
        continue;
      }
      sink.holds({
        kind: 'UNFULFILLED_TARGET',
        key,
        requestId: g.requestId,
        warrantId: g.warrantId,
        subject: g.subject,
        target,
        detail:
          `the ${g.action} of warrant ${g.warrantId} for ${g.subject} was approved for target ` +
          `${target}, but no successful fulfilment was reported there before the window ended at ${g.notAfter}`,
        evidence: { fulfilments: [], observations: [], redemptions: [] },
      });
    }
  }
}

/**
 * `EXPIRED_NOT_REVOKED`: for each `grant`-action warrant whose exception has ended,
 * each target where the grant is still observed present after the end, or where a
 * required `success` `revoke` fulfilment is missing (see `revocationAt`). It clears
 * once a revocation is reported and no in-scope grant is seen present after the end.
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
            : `condition cleared: fulfilment ${by.id} revoked the grant at ${target} and it is no longer observed`,
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
          : 'no revocation was reported';
      sink.holds({
        kind: 'EXPIRED_NOT_REVOKED',
        key,
        requestId: g.requestId,
        warrantId: g.warrantId,
        subject: g.subject,
        target,
        detail: `the time-boxed grant of warrant ${g.warrantId} to ${g.subject} at ${target} ended at ${new Date(st.end).toISOString()} and ${why}`,
        evidence: {
          fulfilments: ids([...st.applies, ...st.revokes]),
          observations: ids(seen),
          redemptions: [],
        },
      });
    }
  }
}
