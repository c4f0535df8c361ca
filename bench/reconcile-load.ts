/**
 * Redemption latency while reconciliation passes run over a large state: the passes plan
 * from a snapshot in a worker thread and write in short transactions, so they should not
 * hold redemptions up. Measured side by side: p99 with no pass running, then with passes
 * running back to back for the whole load.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import { generateReconcileInput } from '../test/fixtures/reconcile-input.js';
import { loadRedemptions } from './redeem.js';
import { seedStore } from './seed.js';
import { BENCH_POLICY, call, redemptionBodies, startNode, stopProcess } from './server.js';
import { now, progress, round, seconds, tempDir, type Figure } from './util.js';

const GRANTS = Number(process.env.BENCH_RECONCILE_LOAD_GRANTS ?? 100_000);

export async function reconcileLoadBenchmarks(): Promise<Figure[]> {
  const t = tempDir('reconcile-load');
  const dir = join(t.dir, 'data');
  mkdirSync(dir);
  writeFileSync(join(dir, 'policy.yaml'), BENCH_POLICY.replace('[staging]', '[staging, prod]'));
  try {
    // A first start creates the data dir's keys and schema; the state is then written
    // straight through the store while no server runs.
    await stopProcess((await startNode(dir)).proc);
    progress(`reconcile-load: seeding ${GRANTS.toLocaleString('en-US')} grants`);
    const store = await openSqliteStore({ file: join(dir, 'countersign.db') });
    await seedStore(store, generateReconcileInput(GRANTS, GRANTS, 7));
    await store.close();
    const { proc, url } = await startNode(dir);
    try {
      const tokens = JSON.parse(readFileSync(join(dir, 'dev-tokens.json'), 'utf8')) as Record<
        string,
        string
      >;
      const executor = tokens['deploy-eu'] as string;
      const bodies = await redemptionBodies(url, tokens, 'load');
      progress('reconcile-load: redemptions alone');
      const alone = await loadRedemptions(url, executor, bodies);
      progress('reconcile-load: redemptions while reconciliation passes run');
      let passes = 0;
      let longest = 0;
      let running = true;
      const reconciling = (async () => {
        while (running) {
          const start = now();
          await call(url, tokens.admin as string, 'POST', '/v1/reconcile');
          longest = Math.max(longest, seconds(start));
          passes += 1;
        }
      })();
      const during = await loadRedemptions(url, executor, bodies);
      running = false;
      await reconciling;
      progress(`reconcile-load: ${passes} passes, the longest ${round(longest, 1)} s`);
      for (const [phase, r] of [
        ['alone', alone],
        ['during', during],
      ] as const) {
        // No answers at all is a stalled server, not a latency of zero.
        if (r.requests.total === 0 || r.non2xx > 0 || r.errors > 0) {
          throw new Error(
            `reconcile-load ${phase}: ${r.requests.total} answers, ${r.non2xx} non-2xx, ${r.errors} errors`,
          );
        }
      }
      return [
        {
          key: 'redeem_p99_alone_ms',
          label: `redemption p99 beside ${GRANTS.toLocaleString('en-US')} reconciled grants, no pass running`,
          value: alone.latency.p99,
          unit: 'ms',
        },
        {
          key: 'redeem_p99_during_reconcile_ms',
          label: `redemption p99 while passes ran back to back (${passes}, the longest ${round(longest, 1)} s)`,
          value: during.latency.p99,
          unit: 'ms',
        },
        {
          key: 'redeem_p99_reconcile_ratio',
          label: 'p99 during reconciliation ÷ p99 alone',
          value: round(during.latency.p99 / Math.max(1, alone.latency.p99), 2),
          unit: '×',
          goal: { target: 2, higherIsBetter: false, text: '≤ 2' },
        },
        {
          key: 'redeem_rps_during_reconcile',
          label: 'redemptions/s while passes ran',
          value: round(during.requests.average, 0),
          unit: '/s',
        },
      ];
    } finally {
      await stopProcess(proc);
    }
  } finally {
    t.cleanup();
  }
}
