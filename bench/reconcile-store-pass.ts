/**
 * One reconciliation pass over an existing SQLite database, as `countersign reconcile
 * --now` makes it, in this process alone: `node reconcile-store-pass.js FILE NOW`. Prints
 * its time, its rows read and this process's peak RSS as JSON (see reconcile-store.ts).
 * `BENCH_RECONCILE_WHOLE=1` plans it the way passes did before slices (every row read).
 */
import { ManualClock } from '../src/core/clock.js';
import { reconcile } from '../src/reconcile/reconcile.js';
import { proofsOf } from '../src/service/evidence-indices.js';
import type { ReconcilePlanner } from '../src/service/reconcile-plan.js';
import { runReconcile } from '../src/service/reconcile.js';
import type { Store } from '../src/service/ports/store.js';
import { workerPlanner } from '../src/server/reconcile-runner.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import { wholeInput } from './whole-input.js';

const [file, now] = process.argv.slice(2) as [string, string];

/** The plan as it was made before docs/decisions/0024: every row, then the reconciler. */
const whole =
  (store: Store): ReconcilePlanner =>
  (params, onSlice) =>
    store.snapshot(async (view) => {
      const input = await wholeInput(view, new Date(params.now));
      const result = reconcile(input);
      const proofs = await proofsOf(
        view,
        result.raise.map((n) => n.evidence),
      );
      onSlice({
        raise: result.raise.map((finding, i) => ({ finding, proof: proofs[i]!.proof })),
        resolve: result.resolve,
        deferred: 0,
        scanned: input.grants.length + input.fulfilments.length + input.observations.length,
      });
      return { treeSize: 0, subjects: new Set(input.grants.map((g) => g.subject)).size };
    });

const store = await openSqliteStore({ file });
// As the server plans a pass: in a worker thread of its own connection.
const planner = process.env.BENCH_RECONCILE_WHOLE === '1' ? whole(store) : workerPlanner(file);
const start = process.hrtime.bigint();
const summary = await runReconcile({
  store,
  clock: new ManualClock(now),
  integrateLog: () => Promise.resolve(),
  ...(planner === null ? {} : { reconcile: { planner } }),
});
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
await store.close();
process.stdout.write(
  JSON.stringify({
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    raised: summary.raised,
    resolved: summary.resolved,
    expired: summary.expired,
    scanned: summary.scanned,
  }),
);
