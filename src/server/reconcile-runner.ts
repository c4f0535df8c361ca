import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { PlanParams, ReconcilePlan, ReconcilePlanner } from '../service/reconcile-plan.js';

const WORKER = new URL('./reconcile-worker.js', import.meta.url);

type Answer =
  | { readonly ok: true; readonly plan: ReconcilePlan }
  | { readonly ok: false; readonly message: string; readonly code: string | null };

/**
 * Plans reconciliation passes in a worker thread of its own connection, when the
 * compiled worker is there and the database can be opened twice (not `:memory:`);
 * otherwise returns null and passes are planned in this thread.
 */
export function workerPlanner(databaseUrl: string): ReconcilePlanner | null {
  if (!existsSync(WORKER) || databaseUrl.endsWith(':memory:')) return null;
  return (params: PlanParams) =>
    new Promise<ReconcilePlan>((resolve, reject) => {
      const worker = new Worker(WORKER, { workerData: { databaseUrl, params } });
      let answered = false;
      worker.once('message', (a: Answer) => {
        answered = true;
        if (a.ok) resolve(a.plan);
        else reject(Object.assign(new Error(`reconcile: ${a.message}`), { code: a.code }));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (!answered) reject(new Error(`reconcile worker exited with code ${code}`));
      });
    });
}
