import type { FindingProof, NewFinding } from '../reconcile/finding.js';
import type { AutomaticResolution } from '../reconcile/input.js';
import { reconcile } from '../reconcile/reconcile.js';
import { proofsOf } from './evidence-indices.js';
import type { Store } from './ports/store.js';

export interface PlanParams {
  /** The pass's instant, as an ISO string (a plan may be made in another thread). */
  readonly now: string;
  readonly driftGraceMs?: number;
}

/** What a pass will write: each finding with its proof, and the resolutions. */
export interface ReconcilePlan {
  readonly raise: readonly { readonly finding: NewFinding; readonly proof: FindingProof }[];
  readonly resolve: readonly AutomaticResolution[];
  /** Findings left for the next pass: an event they cite is not yet in the log. */
  readonly deferred: number;
  /** Rows read from the store to make the plan (an operator's measure of a pass's cost). */
  readonly scanned: number;
}

/** Makes the plan of one pass; the server may make it in a worker thread (`server/`). */
export type ReconcilePlanner = (params: PlanParams) => Promise<ReconcilePlan>;

/**
 * Reads everything a pass needs from one consistent snapshot, which holds no writer up,
 * and computes what to raise and resolve with the pure reconciler. A finding citing an
 * event not yet integrated is deferred (its proof would be partial).
 */
export function planReconcile(store: Store, params: PlanParams): Promise<ReconcilePlan> {
  return store.snapshot(async (view) => {
    const input = {
      now: new Date(params.now),
      grants: await view.reconciliation.grants(),
      fulfilments: await view.fulfilments.list(),
      observations: await view.observations.list(),
      redemptions: await view.reconciliation.allowedRedemptions(),
      denials: await view.reconciliation.denials(),
      existing: await view.findings.existing(),
      ...(params.driftGraceMs === undefined ? {} : { driftGraceMs: params.driftGraceMs }),
    };
    const scanned =
      input.grants.length +
      input.fulfilments.length +
      input.observations.length +
      input.redemptions.length +
      input.denials.length +
      input.existing.size;
    const result = reconcile(input);
    const proofs = await proofsOf(
      view,
      result.raise.map((n) => n.evidence),
    );
    const raise = result.raise.flatMap((finding, i) => {
      const resolved = proofs[i];
      return resolved === undefined || resolved.pending ? [] : [{ finding, proof: resolved.proof }];
    });
    return {
      raise,
      resolve: result.resolve,
      deferred: result.raise.length - raise.length,
      scanned,
    };
  });
}
