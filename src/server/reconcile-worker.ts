/**
 * A reconciliation planner thread: opens the store read-only, makes one pass's plan
 * from a snapshot (reads and the pure reconciler), posts each slice's part back as it is
 * made and exits. The serving thread only writes the plan, so a long pass never stalls a
 * redemption, and it writes one slice while this thread plans the next.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { planSlices, type PlanParams } from '../service/reconcile-plan.js';
import { openReadOnlyStore } from '../store/open.js';

interface Job {
  readonly databaseUrl: string;
  readonly params: PlanParams;
}

const job = workerData as Job;
const store = await openReadOnlyStore(job.databaseUrl);
try {
  const reach = await planSlices(store, job.params, (part) =>
    parentPort?.postMessage({ kind: 'slice', part }),
  );
  parentPort?.postMessage({ kind: 'done', reach });
} catch (e) {
  const err = e as Error & { code?: unknown };
  parentPort?.postMessage({
    kind: 'failed',
    message: err.message,
    code: typeof err.code === 'string' ? err.code : null,
  });
} finally {
  await store.close();
}
