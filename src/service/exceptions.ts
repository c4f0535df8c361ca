import {
  exceptionsReport,
  type ExceptionEntry,
  type ExceptionTarget,
} from '../reconcile/exceptions.js';
import { proofIndices, type FindingEvidence } from '../reconcile/finding.js';
import type { ServiceContext } from './context.js';
import { proofsOf } from './evidence-indices.js';

export interface ExceptionTargetView extends ExceptionTarget {
  /** Log indices of the fulfilments and observations this target's state rests on. */
  readonly logIndices: readonly number[];
}

export interface ExceptionView extends Omit<ExceptionEntry, 'targets'> {
  readonly targets: readonly ExceptionTargetView[];
  /** Log indices of the `warrant.issued` event and of every target's proof. */
  readonly logIndices: readonly number[];
}

/**
 * Every approved time-boxed grant (an exception) since `since`, and whether it was
 * revoked on every target, with the log indices that prove it. The report is
 * computed when asked, so an event not yet integrated has no index and is left out:
 * the queue is integrated first.
 */
export async function exceptionsSince(
  ctx: ServiceContext,
  since: Date | null,
): Promise<ExceptionView[]> {
  await ctx.integrateLog();
  const s = ctx.store.read;
  const grants = (await s.reconciliation.grants()).filter(
    (g) => since === null || Date.parse(g.notAfter) >= since.getTime(),
  );
  const entries = exceptionsReport(
    grants,
    await s.fulfilments.list(),
    await s.observations.list(),
    ctx.clock.now(),
    // Where a use was redeemed, a revocation is owed (`revocationAt`), as in a pass.
    await s.reconciliation.allowedRedemptions(grants.map((g) => g.warrantId)),
  );
  // Per entry: its warrant first, then each of its targets, in one batch of look-ups.
  const cites = (e: ExceptionEntry): FindingEvidence[] => [
    { warrants: [e.warrantId], redemptions: [], fulfilments: [], observations: [] },
    ...e.targets.map((t) => ({ warrants: [], redemptions: [], ...t.evidence })),
  ];
  const proofs = (await proofsOf(s, entries.flatMap(cites))).map((r) => proofIndices(r.proof));
  let at = 0;
  return entries.map((e) => {
    const warrant = proofs[at++] ?? [];
    const targets = e.targets.map((t) => ({ ...t, logIndices: proofs[at++] ?? [] }));
    const all = [...warrant, ...targets.flatMap((t) => t.logIndices)];
    return { ...e, targets, logIndices: [...new Set(all)].sort((a, b) => a - b) };
  });
}
