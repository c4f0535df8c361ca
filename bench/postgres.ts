import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_POLICY, redemptionBodies, startNode } from './server.js';
import { ManualClock } from '../src/core/clock.js';
import { encodeEvent } from '../src/log/event.js';
import { integrateBatch } from '../src/service/integrate.js';
import { loadOrCreateKeyRing } from '../src/service/keys.js';
import { openPostgresStore } from '../src/store/postgres/open.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import type { Store } from '../src/service/ports/store.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { now, progress, round, seconds, tempDir, type Figure } from './util.js';

const CONNECTIONS = 64;
const DURATION_S = 8;
const APPENDS = 20_000;
const BATCH = 1000;
const KEK = randomBytes(32);

// ---- appends through the Store: transactions of BATCH events, each batch integrated ----

async function appender(store: Store): Promise<(from: number, count: number) => Promise<void>> {
  const clock = new ManualClock();
  const ring = await loadOrCreateKeyRing(store, KEK, clock);
  const ctx = { store, clock, keys: () => ring, origin: 'countersign.bench/log' };
  return async (from, count) => {
    for (let i = from; i < from + count; i += BATCH) {
      const n = Math.min(BATCH, from + count - i);
      await store.transaction(async (tx) => {
        await tx.log.appendMany(
          Array.from({ length: n }, (_, j) =>
            encodeEvent({
              v: 1,
              type: 'redemption.allowed',
              at: new Date(1_700_000_000_000 + i + j).toISOString(),
              actor: 'deploy-eu',
              links: { warrant: `wrt_${i + j}` },
              data: { use: 1 },
            }),
          ),
        );
      });
      while ((await integrateBatch(ctx, { maxBatch: 65_536 })).full) {
        // as the server's integrator flushes: until a batch is not full (decision 0003)
      }
    }
  };
}

/** Appends/s with `stores.length` writers (one per node), each appending its share. */
async function appendsPerSecond(stores: readonly Store[]): Promise<number> {
  const writers = await Promise.all(stores.map(appender));
  const share = APPENDS / writers.length;
  const start = now();
  await Promise.all(writers.map((w, k) => w(k * share, share)));
  return APPENDS / seconds(start);
}

// ---- redemptions over HTTP against real server processes ----

function cannon(url: string, token: string, bodies: readonly string[], connections: number) {
  let n = 0;
  return new Promise<autocannon.Result>((ok, fail) => {
    autocannon(
      {
        url: `${url}/v1/redemptions`,
        connections,
        duration: DURATION_S,
        requests: [
          {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            setupRequest: (req) => ({ ...req, body: bodies[n++ % bodies.length] }),
          },
        ],
      },
      (err, result) =>
        err ? fail(err instanceof Error ? err : new Error(String(err))) : ok(result),
    );
  });
}

/** Redemptions/s over `urls` (the connections split between them), and non-2xx answers. */
async function redemptionsPerSecond(
  urls: readonly string[],
  token: string,
  bodies: readonly string[],
): Promise<{ rps: number; non2xx: number }> {
  const results = await Promise.all(
    urls.map((u) => cannon(u, token, bodies, CONNECTIONS / urls.length)),
  );
  return {
    rps: results.reduce((s, r) => s + r.requests.average, 0),
    non2xx: results.reduce((s, r) => s + r.non2xx + r.errors, 0),
  };
}

function benchDataDir(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'policy.yaml'), BENCH_POLICY);
  return dir;
}

/**
 * PostgreSQL beside SQLite: durable appends/s through the Store (one writer, then two
 * writers contending for the log lock as two nodes would), and redemptions/s over HTTP
 * with one server process and with two sharing one database.
 */
export async function postgresBenchmarks(): Promise<Figure[]> {
  const t = tempDir('postgres');
  const cluster = await startPostgres();
  const procs: ChildProcess[] = [];
  try {
    progress(`postgres: ${APPENDS} appends in batches of ${BATCH}, SQLite, then PostgreSQL ×1, ×2`);
    const lite = await openSqliteStore({ file: join(t.dir, 'append.db') });
    const sqliteAppends = await appendsPerSecond([lite]);
    await lite.close();
    const one = await openPostgresStore({ url: await cluster.createDatabase('append1') });
    const pgAppends1 = await appendsPerSecond([one]);
    await one.close();
    const url2 = await cluster.createDatabase('append2');
    const two = [await openPostgresStore({ url: url2 }), await openPostgresStore({ url: url2 })];
    const pgAppends2 = await appendsPerSecond(two);
    await Promise.all(two.map((s) => s.close()));

    progress(`postgres: ${DURATION_S}s of redemptions each on SQLite, PostgreSQL ×1 and ×2`);
    const liteDir = benchDataDir(t.dir, 'sqlite');
    const liteNode = await startNode(liteDir);
    procs.push(liteNode.proc);
    const liteTokens = JSON.parse(readFileSync(join(liteDir, 'dev-tokens.json'), 'utf8'));
    const sqliteRedeem = await redemptionsPerSecond(
      [liteNode.url],
      liteTokens['deploy-eu'],
      await redemptionBodies(liteNode.url, liteTokens, 'pgbench'),
    );
    liteNode.proc.kill('SIGTERM');

    const dbUrl = await cluster.createDatabase('redeem');
    const pgDir = benchDataDir(t.dir, 'pg');
    const a = await startNode(pgDir, dbUrl);
    procs.push(a.proc);
    const tokens = JSON.parse(readFileSync(join(pgDir, 'dev-tokens.json'), 'utf8'));
    const bodies = await redemptionBodies(a.url, tokens, 'pgbench');
    const pg1 = await redemptionsPerSecond([a.url], tokens['deploy-eu'], bodies);
    const b = await startNode(pgDir, dbUrl);
    procs.push(b.proc);
    const pg2 = await redemptionsPerSecond([a.url, b.url], tokens['deploy-eu'], bodies);
    const non2xx = sqliteRedeem.non2xx + pg1.non2xx + pg2.non2xx;
    if (non2xx > 0) progress(`postgres: ${non2xx} non-2xx answers or errors`);

    return [
      {
        key: 'pg_append_per_s_1',
        label: `PostgreSQL durable appends/s, one writer (batches of ${BATCH}, integrated)`,
        value: round(pgAppends1, 0),
        unit: '/s',
        goal: { target: 10_000, higherIsBetter: true, text: '≥ 10,000/s (pg_append_per_s)' },
      },
      {
        key: 'pg_append_per_s_2',
        label: 'PostgreSQL durable appends/s, two writers sharing the log lock',
        value: round(pgAppends2, 0),
        unit: '/s',
      },
      {
        key: 'pg_append_sqlite_per_s',
        label: 'SQLite durable appends/s, same method, same run',
        value: round(sqliteAppends, 0),
        unit: '/s',
      },
      {
        key: 'pg_redeem_http_rps_1',
        label: `PostgreSQL redemptions/s over HTTP, one node (${CONNECTIONS} connections)`,
        value: round(pg1.rps, 0),
        unit: '/s',
      },
      {
        key: 'pg_redeem_http_rps_2',
        label: `PostgreSQL redemptions/s over HTTP, two nodes (${CONNECTIONS / 2} connections each)`,
        value: round(pg2.rps, 0),
        unit: '/s',
      },
      {
        key: 'pg_redeem_sqlite_http_rps',
        label: 'SQLite redemptions/s over HTTP, one node, same run',
        value: round(sqliteRedeem.rps, 0),
        unit: '/s',
      },
      {
        key: 'pg_redeem_ratio_vs_sqlite',
        label: 'PostgreSQL ÷ SQLite redemptions/s, one node each, same run',
        value: round(pg1.rps / sqliteRedeem.rps, 3),
        unit: '×',
        goal: { target: 0.5, higherIsBetter: true, text: '≥ 0.5' },
      },
      {
        key: 'pg_redeem_2node_ratio_vs_1node',
        label: 'PostgreSQL redemptions/s, two nodes ÷ one node (no collapse)',
        value: round(pg2.rps / pg1.rps, 3),
        unit: '×',
        goal: { target: 0.9, higherIsBetter: true, text: '≥ 0.9' },
      },
      {
        key: 'pg_redeem_http_non2xx',
        label: 'non-2xx answers or errors during the three redemption runs',
        value: non2xx,
        unit: '',
      },
    ];
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await cluster.stop();
    t.cleanup();
  }
}
