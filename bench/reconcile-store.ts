/**
 * Reconciliation through the real store: a SQLite database holding `GRANTS` warrants
 * and `OBSERVATIONS` observations (the generated benchmark state), seeded with direct
 * inserts in one transaction, then one pass as `countersign reconcile --now` makes it
 * (`runReconcile`: expiries, the plan from a snapshot, findings written in batches) in a
 * child process of its own, whose peak RSS (`resourceUsage().maxRSS`) is the figure.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { nhiKey } from '../src/nhi/key.js';
import { factKey, observationKey } from '../src/observation/observation.js';
import { openSqliteStore } from '../src/store/sqlite/open.js';
import { generateReconcileInput } from '../test/fixtures/reconcile-input.js';
import { inTimeOrder, requestOf } from './seed.js';
import { progress, round, tempDir, type Figure } from './util.js';

const GRANTS = Number(process.env.BENCH_RECONCILE_STORE_GRANTS ?? 100_000);
const OBSERVATIONS = Number(process.env.BENCH_RECONCILE_STORE_OBSERVATIONS ?? 1_000_000);
/** Sightings that arrive before the next pass: about the store's whole history per 1,000 passes. */
const SIGHTINGS = Number(process.env.BENCH_RECONCILE_STORE_SIGHTINGS ?? 1_000);

/** What the child reports. */
export interface PassReport {
  readonly seconds: number;
  readonly maxRssMb: number;
  readonly raised: number;
  readonly resolved: number;
  readonly expired: number;
  readonly scanned: number;
  /** The next pass, a minute later, after `SIGHTINGS` new sightings (decision 0029). */
  readonly next: {
    readonly second: { readonly seconds: number; readonly planned: number };
    readonly fullSeconds: number;
    readonly seconds: number;
    readonly planned: number;
    readonly raised: number;
    readonly scanned: number;
    readonly added: number;
  } | null;
}

/** Writes the generated state straight into the tables, in one transaction. */
async function seed(file: string): Promise<{ now: string; observations: number }> {
  await (await openSqliteStore({ file })).close(); // the schema, by the store's migrations
  const input = generateReconcileInput(GRANTS, OBSERVATIONS, 42);
  const db = new SqliteDatabase(file);
  const at = '2026-01-01T00:00:00.000Z';
  const put = (sql: string) => db.prepare(sql);
  const nhi = put(
    'insert into nhis (id, key, kind, owner, description, created_at, created_by) values (?, ?, ?, ?, ?, ?, ?)',
  );
  const request = put(`insert into requests (id, body, state, requester, subject, environment,
    created_at, pending_expires_at, warrant_id, updated_at) values (?, ?, 'approved', 'alice', ?, ?, ?, ?, ?, ?)`);
  const warrant = put(`insert into warrants (id, request_id, kid, token, claims, uses, max_uses,
    state, issued_at, not_before, not_after, revoked_at, revoked_by, revoke_reason)
    values (?, ?, 'seed', 'seed', '{}', 1, 10, ?, ?, ?, ?, ?, ?, null)`);
  const fulfilment =
    put(`insert into fulfilments (id, request_id, warrant_id, receipt_id, executor, subject, target,
    phase, outcome, fingerprint, detail, at, event_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`);
  const observation =
    put(`insert or ignore into observations (id, key, observer, subject, target, fact_key, fact,
    observed_at, received_at, event_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`);
  const redemption = put(`insert into redemptions (id, warrant_id, outcome, code, use_number,
    executor, action, at, event_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  let observed = 0;
  db.transaction(() => {
    for (const s of new Set(input.grants.map((g) => g.subject))) {
      nhi.run(s, nhiKey(s), 'service_account', 'team', null, at, 'seed');
    }
    for (const g of inTimeOrder(input.grants, (g) => g.notBefore)) {
      const r = requestOf(g);
      request.run(
        r.id,
        JSON.stringify(r.body),
        g.subject,
        g.environment,
        g.notBefore,
        g.notBefore,
        g.warrantId,
        g.notBefore,
      );
      const revoked = g.revokedAt === null ? null : 'seed';
      warrant.run(
        g.warrantId,
        g.requestId,
        g.revokedAt === null ? 'active' : 'revoked',
        g.notBefore,
        g.notBefore,
        g.notAfter,
        g.revokedAt,
        revoked,
      );
    }
    for (const f of inTimeOrder(input.fulfilments, (f) => f.at)) {
      fulfilment.run(
        f.id,
        f.requestId,
        f.warrantId,
        f.receiptId,
        f.executor,
        f.subject,
        f.target,
        f.phase,
        f.outcome,
        f.fingerprint,
        f.detail,
        f.at,
      );
    }
    for (const o of inTimeOrder(input.observations, (o) => o.receivedAt)) {
      const fact = JSON.stringify(o.fact);
      const key = observationKey(o);
      observed += observation.run(
        o.id,
        key,
        o.observer,
        o.subject,
        o.target,
        factKey(o.fact),
        fact,
        o.observedAt,
        o.receivedAt,
      ).changes;
    }
    for (const r of inTimeOrder(input.redemptions, (r) => r.at)) {
      const action = JSON.stringify({
        resource: 'db/orders',
        permission: 'read',
        environment: 'prod',
        target: r.target,
      });
      redemption.run(
        `${r.receiptId}:${r.target ?? 'default'}`,
        r.warrantId,
        'allow',
        null,
        1,
        'deployer',
        action,
        r.at,
        Number(r.id),
      );
    }
    inTimeOrder(input.denials, (d) => d.at).forEach((d) => {
      redemption.run(`${d.id}`, d.warrantId, 'deny', d.code, null, d.executor, '{}', d.at, null);
    });
  })();
  db.close();
  return { now: input.now.toISOString(), observations: observed };
}

/** Runs one pass in a child process (`reconcile-store-pass.ts`) and returns its report. */
function passInChild(file: string, now: string): PassReport {
  const child = join(fileURLToPath(new URL('.', import.meta.url)), 'reconcile-store-pass.js');
  const out = execFileSync(process.execPath, [child, file, now, String(SIGHTINGS)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out) as PassReport;
}

export async function reconcileStoreBenchmarks(): Promise<Figure[]> {
  const t = tempDir('reconcile-store');
  try {
    // BENCH_RECONCILE_STORE_DB keeps the seeded database (a copy of it) for another run.
    const kept = process.env.BENCH_RECONCILE_STORE_DB;
    const file = join(t.dir, 'countersign.db');
    let seeded: { now: string; observations: number };
    if (kept !== undefined && existsSync(`${kept}.json`)) {
      copyFileSync(kept, file);
      seeded = JSON.parse(readFileSync(`${kept}.json`, 'utf8')) as typeof seeded;
    } else {
      progress(`reconcile-store: seeding ${GRANTS} warrants and ${OBSERVATIONS} observations`);
      seeded = await seed(file);
      if (kept !== undefined) {
        copyFileSync(file, kept);
        writeFileSync(`${kept}.json`, JSON.stringify(seeded));
      }
    }
    const { now, observations } = seeded;
    global.gc?.();
    progress(`reconcile-store: one pass over ${observations} stored observations`);
    const r = passInChild(file, now);
    progress(
      `reconcile-store: ${r.raised} raised, ${r.resolved} resolved, ${r.expired} expiries, ${r.scanned} rows read`,
    );
    return [
      {
        key: 'reconcile_1m_obs_s',
        label: `reconcile --now through the SQLite store: ${GRANTS.toLocaleString('en-US')} warrants × ${observations.toLocaleString('en-US')} observations (${r.raised} findings raised, ${r.scanned.toLocaleString('en-US')} rows read)`,
        value: round(r.seconds, 2),
        unit: 's',
        goal: { target: 10, higherIsBetter: false, text: '≤ 10 s' },
      },
      {
        key: 'reconcile_peak_rss_mb',
        label: 'peak RSS of the process making that pass (its maxRSS)',
        value: round(r.maxRssMb, 0),
        unit: 'MB',
        goal: { target: 1024, higherIsBetter: false, text: '≤ 1,024 MB' },
      },
      {
        key: 'reconcile_1m_obs_rows_read',
        label: 'rows the pass read from the store (its `scanned`)',
        value: r.scanned,
        unit: '',
      },
      ...(r.next === null
        ? []
        : [
            {
              key: 'reconcile_1m_obs_second_s',
              label: `the pass right after, which judges again the ${r.next.second.planned.toLocaleString('en-US')} subjects the first raised findings for`,
              value: round(r.next.second.seconds, 2),
              unit: 's',
            },
            {
              key: 'reconcile_1m_obs_next_s',
              label: `the next pass a minute later, after ${r.next.added.toLocaleString('en-US')} new sightings: it planned ${r.next.planned.toLocaleString('en-US')} subjects and read ${r.next.scanned.toLocaleString('en-US')} rows (${r.next.raised} findings raised)`,
              value: round(r.next.seconds, 2),
              unit: 's',
            },
            {
              key: 'reconcile_1m_obs_next_full_s',
              label:
                'the same state planned for every subject (`reconcile --now --full`), right after',
              value: round(r.next.fullSeconds, 2),
              unit: 's',
            },
          ]),
    ];
  } finally {
    t.cleanup();
  }
}
