import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../src/core/clock.js';
import { encodeEvent } from '../src/log/event.js';
import { auditStore } from '../src/service/audit-log.js';
import { integrateBatch } from '../src/service/integrate.js';
import { loadOrCreateKeyRing } from '../src/service/keys.js';
import { inclusionProof } from '../src/service/log-read.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import type { Store } from '../src/service/ports/store.js';
import { now, progress, round, seconds, tempDir, type Figure } from './util.js';

const ORIGIN = 'countersign.bench/log';
const KEK = randomBytes(32);

function leaves(
  start: number,
  count: number,
): Array<{ leaf: string; leafHash: string; at: string }> {
  return Array.from({ length: count }, (_, i) =>
    encodeEvent({
      v: 1,
      type: 'redemption.allowed',
      at: new Date(1_700_000_000_000 + start + i).toISOString(),
      actor: 'deploy-eu',
      links: {
        request: `sha256:${(start + i).toString(16).padStart(64, '0')}`,
        warrant: `wrt_${start + i}`,
      },
      data: { use: 1, action: { resource: 'db/orders', permission: 'read', environment: 'prod' } },
    }),
  ).map((e) => ({ leaf: e.leaf, leafHash: e.leafHash, at: e.event.at }));
}

async function openLog(file: string): Promise<{ store: Store; integrate: () => Promise<void> }> {
  const store = await openSqliteStore({ file });
  const clock = new ManualClock();
  const ring = await loadOrCreateKeyRing(store, KEK, clock);
  const ctx = { store, clock, keys: () => ring, origin: ORIGIN };
  return {
    store,
    integrate: async () => {
      while ((await integrateBatch(ctx, { maxBatch: 65_536 })).full) {
        // as the server's integrator flushes: until a batch is not full (decision 0003)
      }
    },
  };
}

/** Appends `count` events through the store in transactions of `batch`, each integrated and checkpointed. */
async function appendThroughStore(
  store: Store,
  integrate: () => Promise<void>,
  count: number,
  batch: number,
): Promise<number> {
  const start = now();
  for (let i = 0; i < count; i += batch) {
    const rows = leaves(i, Math.min(batch, count - i));
    await store.transaction(async (tx) => {
      for (const r of rows) {
        await tx.log.append({
          event: {
            v: 1,
            type: 'redemption.allowed',
            at: r.at,
            actor: 'deploy-eu',
            links: {},
            data: {},
          },
          leaf: r.leaf,
          leafHash: r.leafHash,
        });
      }
    });
    await integrate();
  }
  return seconds(start);
}

/** The same rows, inserted with a bare prepared statement in transactions of `batch`. */
function rawInsert(file: string, count: number, batch: number): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'create table events (id integer primary key, type text, at text, actor text, leaf text, leaf_hash text)',
  );
  const ins = db.prepare(
    "insert into events (type, at, actor, leaf, leaf_hash) values ('redemption.allowed', ?, 'deploy-eu', ?, ?)",
  );
  const tx = db.transaction((rows: Array<{ leaf: string; leafHash: string; at: string }>) => {
    for (const r of rows) ins.run(r.at, r.leaf, r.leafHash);
  });
  const start = now();
  for (let i = 0; i < count; i += batch) tx(leaves(i, Math.min(batch, count - i)));
  const s = seconds(start);
  db.close();
  return s;
}

/** Bulk-loads `count` events straight into the queue, then integrates them (for the 1M-leaf figures). */
async function buildLog(file: string, count: number): Promise<Store> {
  // Create the schema and key, then load rows with a bare statement: only integration is timed here.
  await (await openLog(file)).store.close();
  const db = new Database(file);
  const ins = db.prepare(
    "insert into events (type, at, actor, leaf, leaf_hash) values ('redemption.allowed', ?, 'deploy-eu', ?, ?)",
  );
  const tx = db.transaction((rows: ReturnType<typeof leaves>) => {
    for (const r of rows) ins.run(r.at, r.leaf, r.leafHash);
  });
  for (let i = 0; i < count; i += 50_000) tx(leaves(i, Math.min(50_000, count - i)));
  db.close();
  const reopened = await openLog(file);
  await reopened.integrate();
  return reopened.store;
}

async function proofLatencyUs(store: Store, samples: number): Promise<number> {
  const size = (await store.read.log.latestCheckpoint())?.size ?? 0;
  for (let i = 0; i < 200; i++)
    await inclusionProof(store.read, Math.floor(Math.random() * size), size);
  const start = now();
  for (let i = 0; i < samples; i++)
    await inclusionProof(store.read, Math.floor(Math.random() * size), size);
  return (seconds(start) / samples) * 1e6;
}

export async function logBenchmarks(opts: { bigLog: number }): Promise<Figure[]> {
  const t = tempDir('log');
  try {
    const count = 100_000;
    const batch = 1000;
    progress(`log: ${count} durable appends in batches of ${batch}`);
    const { store, integrate } = await openLog(join(t.dir, 'append.db'));
    const appendS = await appendThroughStore(store, integrate, count, batch);
    await store.close();
    const rawS = rawInsert(join(t.dir, 'raw.db'), count, batch);

    progress('log: proof latency at 1k leaves');
    const small = await buildLog(join(t.dir, 'small.db'), 1000);
    const us1k = await proofLatencyUs(small, 5000);
    await small.close();
    progress(`log: building a ${opts.bigLog}-leaf log`);
    const big = await buildLog(join(t.dir, 'big.db'), opts.bigLog);
    const us1m = await proofLatencyUs(big, 5000);
    progress(`log: verifying all ${opts.bigLog} entries`);
    const vStart = now();
    const report = await auditStore(big);
    const verifyS = seconds(vStart);
    if (!report.ok)
      throw new Error(`bench log did not verify: ${JSON.stringify(report.divergence)}`);
    await big.close();
    return [
      {
        key: 'log_append_per_s',
        label: `durable appends/s (batches of ${batch}, integrated + checkpointed)`,
        value: round(count / appendS, 0),
        unit: '/s',
        goal: { target: 10_000, higherIsBetter: true, text: '≥ 10,000/s' },
      },
      {
        key: 'log_append_raw_insert_per_s',
        label: 'raw batched SQLite insert of the same rows',
        value: round(count / rawS, 0),
        unit: '/s',
      },
      {
        key: 'log_append_ratio_vs_raw',
        label: 'log appends / raw inserts',
        value: round(rawS / appendS, 3),
        unit: '×',
      },
      {
        key: 'proof_latency_1k_us',
        label: 'inclusion proof latency, 1k leaves',
        value: round(us1k, 1),
        unit: 'µs',
      },
      {
        key: 'proof_latency_1m_us',
        label: `inclusion proof latency, ${opts.bigLog} leaves`,
        value: round(us1m, 1),
        unit: 'µs',
      },
      {
        key: 'proof_latency_ratio_1m_vs_1k',
        label: 'proof latency ratio, 1M vs 1k',
        value: round(us1m / us1k, 2),
        unit: '×',
        goal: { target: 3, higherIsBetter: false, text: '≤ 3×' },
      },
      {
        key: 'log_verify_1m_s',
        label: `log verify from the store, ${opts.bigLog} entries (leaves, checkpoints, every stored subtree hash)`,
        value: round(verifyS, 2),
        unit: 's',
        goal: { target: 10, higherIsBetter: false, text: '≤ 10 s' },
      },
    ];
  } finally {
    if (!process.env.BENCH_KEEP) t.cleanup();
  }
}
