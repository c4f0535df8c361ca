/**
 * One reconciliation pass over an existing SQLite database, as `countersign reconcile
 * --now` makes it, in this process alone: `node reconcile-store-pass.js FILE NOW [N]`.
 * Prints its time, its rows read and this process's peak RSS as JSON (see
 * reconcile-store.ts). With N, the log is then integrated, N sightings arrive, and a
 * second pass a minute later plans only what changed (decision 0029): its figures too.
 * `BENCH_RECONCILE_WHOLE=1` plans it the way passes did before slices (every row read).
 */
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../src/core/clock.js';
import { loadOrCreateKeyRing } from '../src/service/keys.js';
import { integrateAll } from '../test/helpers/unapproved-grant.js';
import { addSightings } from './reconcile-increment.js';
import { reconcile } from '../src/reconcile/reconcile.js';
import { proofsOf } from '../src/service/evidence-indices.js';
import type { ReconcilePlanner } from '../src/service/reconcile-plan.js';
import { runReconcile } from '../src/service/reconcile.js';
import type { Store } from '../src/service/ports/store.js';
import { workerPlanner } from '../src/server/reconcile-runner.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import { wholeInput } from './whole-input.js';

const [file, now, sightings] = process.argv.slice(2) as [string, string, string | undefined];

/** The plan as it was made before docs/decisions/0024: every row, then the reconciler. */
const whole =
  (store: Store): ReconcilePlanner =>
  (params, onSlice) =>
    store.snapshot(async (view) => {
      const input = await wholeInput(view, new Date(params.now));
      const result = reconcile(input);
      const proofs = await proofsOf(view, [
        ...result.raise.map((n) => n.evidence),
        ...result.reopen.map((r) => r.finding.evidence),
      ]);
      const proofAt = (i: number) => proofs[i]!.proof;
      onSlice({
        raise: result.raise.map((finding, i) => ({ finding, proof: proofAt(i) })),
        reopen: result.reopen.map((r, i) => ({ ...r, proof: proofAt(result.raise.length + i) })),
        resolve: result.resolve,
        deferred: 0,
        scanned: input.grants.length + input.fulfilments.length + input.observations.length,
      });
      return { treeSize: 0, subjects: new Set(input.grants.map((g) => g.subject)).size };
    });

const store = await openSqliteStore({ file });
// As the server plans a pass: in a worker thread of its own connection.
const planner = process.env.BENCH_RECONCILE_WHOLE === '1' ? whole(store) : workerPlanner(file);
const clock = new ManualClock(now);

/** One pass as `reconcile --now` makes it, timed. */
async function timedPass(full = false) {
  const start = process.hrtime.bigint();
  const summary = await runReconcile(
    {
      store,
      clock,
      integrateLog: () => Promise.resolve(),
      ...(planner === null ? {} : { reconcile: { planner } }),
    },
    { full },
  );
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, summary };
}

/** What the server's integrator does between passes: every queued event into the log. */
const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
const integrateEverything = () => integrateAll(store, clock, ring);

const first = await timedPass();
let next: {
  second: { seconds: number; planned: number };
  fullSeconds: number;
  seconds: number;
  planned: number;
  raised: number;
  scanned: number;
  added: number;
} | null = null;
if (sightings !== undefined) {
  // The pass after the first judges again every subject the first raised findings for.
  await integrateEverything();
  clock.set(new Date(Date.parse(now) + 1_000));
  const second = await timedPass();
  // A minute later: the log integrated meanwhile, and new sightings arrived.
  await integrateEverything();
  const at = new Date(Date.parse(now) + 30_000).toISOString();
  const added = addSightings(file, Number(sightings), at);
  await integrateEverything();
  clock.set(new Date(Date.parse(now) + 60_000));
  const { seconds, summary } = await timedPass();
  // The same state planned whole, side by side (its findings are already raised).
  const whole = await timedPass(true);
  next = {
    second: { seconds: second.seconds, planned: second.summary.planned },
    fullSeconds: whole.seconds,
    seconds,
    planned: summary.planned,
    raised: summary.raised,
    scanned: summary.scanned,
    added,
  };
}
await store.close();
process.stdout.write(
  JSON.stringify({
    seconds: first.seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    raised: first.summary.raised,
    resolved: first.summary.resolved,
    expired: first.summary.expired,
    scanned: first.summary.scanned,
    next,
  }),
);
