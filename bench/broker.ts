import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_PASSWORD, startFixture, type PgFixture } from '../test/connectors/pg-fixture.js';
import { BENCH_POLICY, call, startNode, stopProcess } from './server.js';
import { now, percentile, progress, round, tempDir, type Figure } from './util.js';

const WARMUP = 20;
const RUNS = 200;
const SCOPE = [
  { resource: 'pg/appdb/public/orders', permissions: ['read'] },
  { resource: 'pg/appdb/public/invoices', permissions: ['read'] },
];
const ACTION = {
  resource: 'pg/appdb/public/orders',
  permission: 'read',
  environment: 'staging',
  target: 'appdb',
};
// The roles the connector mints (postgres-plan.ts): what must be gone when the bench ends.
const MINTED = "SELECT count(*)::int AS n FROM pg_roles WHERE rolname ~ '^cs_[0-9a-f]{12}$'";

/** A dev-mode server on SQLite with the `appdb` connector, which only a config file can name. */
async function startBrokerNode(
  dir: string,
  database: string,
  adminUrl: string,
): Promise<{ proc: ChildProcess; url: string }> {
  const config = join(dir, 'broker-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      connectors: [
        {
          name: 'appdb',
          kind: 'postgres',
          urlEnv: 'APPDB_ADMIN_URL',
          database,
          protectedTables: ['public.customers'],
        },
      ],
      // Short, so that the revocation after the run drops the roles within seconds.
      revocationInterval: '1s',
    }),
  );
  return startNode(dir, undefined, {
    args: ['--config', config],
    env: { APPDB_ADMIN_URL: adminUrl },
  });
}

/** One approved warrant for a fresh agent: brokered through `appdb`, or the same without. */
async function warrant(
  url: string,
  tokens: Record<string, string>,
  name: string,
  connector: boolean,
): Promise<{ token: string; warrantId: string }> {
  const subject = `agent:broker-bench-${name}`;
  await call(url, tokens.admin!, 'POST', '/v1/nhis', { id: subject, kind: 'ai_agent', owner: 't' });
  const r = await call(url, tokens.alice!, 'POST', '/v1/requests', {
    subject,
    action: 'grant',
    // A brokered grant's one target is its connector; the plain one names it by hand.
    ...(connector ? { connector: 'appdb' } : { targets: ['appdb'] }),
    scope: SCOPE,
    environment: 'staging',
    executor: { principal: 'deploy-eu' },
    duration: '2h',
    maxUses: 10 * (WARMUP + RUNS),
    reason: 'bench',
  });
  await call(url, tokens.bob!, 'POST', `/v1/requests/${r.id}/decisions`, { decision: 'approve' });
  const w = await call(url, tokens['deploy-eu']!, 'GET', `/v1/requests/${r.id}/warrant`);
  return { token: w.token!, warrantId: w.warrantId! };
}

/** One redemption over HTTP, its answer read whole; milliseconds, and the answer. */
async function timedRedeem(
  url: string,
  executor: string,
  token: string,
): Promise<{ ms: number; body: { credential?: Record<string, string>; receipt?: string } }> {
  const start = now();
  const res = await fetch(`${url}/v1/redemptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${executor}`, 'content-type': 'application/json' },
    body: JSON.stringify({ warrant: token, action: ACTION }),
  });
  const body = (await res.json()) as { credential?: Record<string, string>; receipt?: string };
  const ms = Number(now() - start) / 1e6;
  if (!res.ok) throw new Error(`redemption refused: ${JSON.stringify(body)}`);
  return { ms, body };
}

async function mintedRoles(fx: PgFixture): Promise<number> {
  return (await fx.su.query<{ n: number }>(MINTED)).rows[0]?.n ?? 0;
}

/** Revokes the brokered warrant and waits for the server's sweep to drop every role. */
async function revokeAll(
  fx: PgFixture,
  url: string,
  tokens: Record<string, string>,
  warrantId: string,
): Promise<void> {
  const minted = await mintedRoles(fx);
  const start = now();
  await call(url, tokens.alice!, 'POST', `/v1/warrants/${warrantId}/revocation`, {
    reason: 'bench done',
  });
  const deadline = Date.now() + 180_000;
  for (let left = minted; left > 0; left = await mintedRoles(fx)) {
    if (Date.now() > deadline) throw new Error(`broker: ${left} of ${minted} roles not revoked`);
    await sleep(250);
  }
  const s = Number(now() - start) / 1e9;
  progress(`broker: revocation sweep dropped ${minted} roles in ${round(s, 1)} s`);
}

/**
 * `broker_grant_ms`: sequential single redemptions over HTTP, one at a time as an
 * executor makes them, alternating a brokered warrant (each use mints a PostgreSQL login
 * role: CREATE ROLE, GRANTs, a check of what was granted) with a plain warrant of the
 * same shape and no connector, against one dev-mode server on SQLite. Starting the
 * cluster is not measured.
 */
export async function brokerBenchmarks(): Promise<Figure[]> {
  const t = tempDir('broker');
  const dir = join(t.dir, 'data');
  mkdirSync(dir);
  writeFileSync(join(dir, 'policy.yaml'), BENCH_POLICY);
  const fx = await startFixture();
  let proc: ChildProcess | undefined;
  try {
    const node = await startBrokerNode(dir, fx.database, fx.url('broker', ADMIN_PASSWORD));
    proc = node.proc;
    const tokens = JSON.parse(readFileSync(join(dir, 'dev-tokens.json'), 'utf8')) as Record<
      string,
      string
    >;
    const executor = tokens['deploy-eu']!;
    const brokered = await warrant(node.url, tokens, 'brokered', true);
    const plain = await warrant(node.url, tokens, 'plain', false);

    progress(`broker: ${WARMUP} + ${RUNS} redemptions each, brokered and plain, alternating`);
    const grantMs: number[] = [];
    const plainMs: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const b = await timedRedeem(node.url, executor, brokered.token);
      if (!b.body.credential?.PGUSER || !b.body.credential.PGPASSWORD) {
        throw new Error('broker: a brokered redemption came back without a credential');
      }
      const p = await timedRedeem(node.url, executor, plain.token);
      if (p.body.credential !== undefined || typeof p.body.receipt !== 'string') {
        throw new Error(
          'broker: a plain redemption came back without a receipt, or with a credential',
        );
      }
      if (i < WARMUP) continue;
      grantMs.push(b.ms);
      plainMs.push(p.ms);
    }
    grantMs.sort((x, y) => x - y);
    plainMs.sort((x, y) => x - y);
    await revokeAll(fx, node.url, tokens, brokered.warrantId);

    const grant50 = percentile(grantMs, 50);
    const plain50 = percentile(plainMs, 50);
    return [
      {
        key: 'broker_grant_p50_ms',
        label: 'brokered redemption minting a PostgreSQL role, p50 (sequential, HTTP)',
        value: round(grant50, 2),
        unit: 'ms',
      },
      {
        key: 'broker_grant_p99_ms',
        label: 'brokered redemption minting a PostgreSQL role, p99',
        value: round(percentile(grantMs, 99), 2),
        unit: 'ms',
      },
      {
        key: 'plain_redeem_p50_ms',
        label: 'plain redemption of the same shape, p50, same run',
        value: round(plain50, 2),
        unit: 'ms',
      },
      {
        key: 'plain_redeem_p99_ms',
        label: 'plain redemption of the same shape, p99, same run',
        value: round(percentile(plainMs, 99), 2),
        unit: 'ms',
      },
      {
        key: 'broker_grant_p50_vs_plain',
        label: 'brokered p50 ÷ plain p50',
        value: round(grant50 / plain50, 2),
        unit: '×',
      },
    ];
  } finally {
    if (proc) await stopProcess(proc);
    await fx.stop();
    t.cleanup();
  }
}
