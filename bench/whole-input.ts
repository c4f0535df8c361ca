import type { ReconcileInput } from '../src/reconcile/input.js';
import { storeOrder } from '../src/reconcile/reconcile.js';
import type { ReadPorts } from '../src/service/ports/store.js';

/**
 * The reconciler's input as passes read it before subject slices (decision 0024): every
 * row of every table. The bench measures that plan beside the sliced one, and the tests
 * check the sliced plan against it.
 */
export async function wholeInput(view: ReadPorts, now: Date): Promise<ReconcileInput> {
  return {
    now,
    grants: await view.reconciliation.grants(),
    fulfilments: await view.fulfilments.list(),
    observations: (await view.observations.list()).sort(storeOrder),
    redemptions: await view.reconciliation.allowedRedemptions(),
    denials: [
      ...(await view.reconciliation.denials()),
      ...(await view.reconciliation.unattributedDenials()),
    ],
    existing: await view.findings.existing(),
  };
}
