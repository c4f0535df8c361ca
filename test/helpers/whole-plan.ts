import type { AutomaticResolution } from '../../src/reconcile/input.js';
import {
  planSlices,
  type PlanParams,
  type ReconcilePlan,
} from '../../src/service/reconcile-plan.js';
import type { Store } from '../../src/service/ports/store.js';

/** The whole plan of one pass at once, its slices' parts joined, to compare plans whole. */
export async function planReconcile(store: Store, params: PlanParams): Promise<ReconcilePlan> {
  const raise: ReconcilePlan['raise'][number][] = [];
  const reopen: ReconcilePlan['reopen'][number][] = [];
  const resolve: AutomaticResolution[] = [];
  let deferred = 0;
  let scanned = 0;
  await planSlices(store, params, (part) => {
    raise.push(...part.raise);
    reopen.push(...part.reopen);
    resolve.push(...part.resolve);
    deferred += part.deferred;
    scanned += part.scanned;
  });
  return { raise, reopen, resolve, deferred, scanned };
}
