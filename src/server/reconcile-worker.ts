/**
 * A reconciliation planner thread: opens the store read-only, makes one pass's plan
 * from a snapshot (reads and the pure reconciler), posts it back and exits. The
 * serving thread only writes the plan, so a long pass never stalls a redemption.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { planReconcile, type PlanParams } from '../service/reconcile-plan.js';
import { openReadOnlyStore } from '../store/open.js';

interface Job {
  readonly databaseUrl: string;
  readonly params: PlanParams;
}

const job = workerData as Job;
const store = await openReadOnlyStore(job.databaseUrl);
try {
  parentPort?.postMessage({ ok: true, plan: await planReconcile(store, job.params) });
} catch (e) {
  const err = e as Error & { code?: unknown };
  parentPort?.postMessage({
    ok: false,
    message: err.message,
    code: typeof err.code === 'string' ? err.code : null,
  });
} finally {
  await store.close();
}
