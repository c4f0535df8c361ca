import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../helpers/db.js';
import {
  BROKERED_ACTION,
  brokerConfig,
  brokeredWarrant as brokeredWarrantOn,
  mintedCredential as mintedCredentialOn,
  requestBrokered,
  until,
} from '../helpers/broker.js';
import { registerAgent } from '../helpers/mcp-gating.js';
import { POSTGRES_UNAVAILABLE, postgresTool } from '../helpers/postgres.js';
import { findingsOf, reconcileNow } from '../helpers/reconcile.js';
import { TestServer } from '../helpers/server.js';
import { startFixture, type PgFixture } from '../connectors/pg-fixture.js';

/**
 * countersign as the credential broker, against a real PostgreSQL: the credential is
 * minted at redemption, the database itself enforces the approved tables, and the role
 * is revoked by the server's own schedule at the window's end (or at once on revoke).
 */

let fx: PgFixture;
let s: TestServer;

beforeAll(async () => {
  if (POSTGRES_UNAVAILABLE !== null) return;
  fx = await startFixture();
  s = await TestServer.start(brokerConfig(fx));
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await fx?.stop();
});

const ACTION = BROKERED_ACTION;
const brokeredWarrant = () => brokeredWarrantOn(s);
const mintedCredential = (token: string) => mintedCredentialOn(s, token);

const fulfilmentsOf = (requestId: string) =>
  query<{ phase: string; outcome: string; target: string }>(
    s.dataDir,
    'select phase, outcome, target from fulfilments where request_id = ? order by at, phase',
    requestId,
  );

describe.skipIf(POSTGRES_UNAVAILABLE !== null)('a brokered grant on PostgreSQL', () => {
  it('refuses a request naming a connector the server does not have', async () => {
    const r = await requestBrokered(s, await registerAgent(s), 'nosuchdb', [
      { resource: 'pg/nosuchdb/public/orders', permissions: ['read'] },
    ]);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('CONNECTOR_UNKNOWN');
  });

  it.each([
    [
      'a system schema',
      'pg/appdb/pg_catalog/pg_authid',
      'read',
      /system schemas are never granted/,
    ],
    [
      'a permission the connector does not map',
      'pg/appdb/public/orders',
      'frobnicate',
      /unknown permission/,
    ],
  ])(
    'refuses a scope naming %s when the request is created, not at every redemption',
    async (_what, resource, permission, why) => {
      const r = await requestBrokered(s, await registerAgent(s), 'appdb', [
        { resource, permissions: [permission] },
      ]);
      expect([r.status, r.body.code], r.text).toEqual([400, 'CONNECTOR_UNKNOWN']);
      expect(r.body.detail).toMatch(why);
    },
  );

  it('mints a role that reads the approved tables only, then revokes it at the window end', async () => {
    const { requestId, token } = await brokeredWarrant();
    const r = await s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: token, action: ACTION },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const { credential, receipt } = r.body as {
      credential: Record<string, string>;
      receipt: string;
    };
    const grant = (decodeJwt(receipt) as { grant?: Record<string, string> }).grant;
    expect(grant).toMatchObject({ connector: 'appdb', handle: credential.PGUSER });
    expect(receipt).not.toContain(credential.PGPASSWORD);

    const db = await fx.login(credential);
    expect((await db.query('SELECT count(*) FROM public.orders')).rows).toHaveLength(1);
    expect((await db.query('SELECT count(*) FROM public.invoices')).rows).toHaveLength(1);
    await expect(db.query('SELECT * FROM public.customers')).rejects.toThrow(/permission denied/);
    await expect(db.query('INSERT INTO public.orders VALUES (2)')).rejects.toThrow(
      /permission denied/,
    );
    await db.end();

    // The password is nowhere countersign writes: not in the log, not in its output.
    const events = query<{ leaf: string }>(s.dataDir, 'select leaf from events');
    expect(events.some((e) => e.leaf.includes(credential.PGPASSWORD ?? '-'))).toBe(false);
    expect(s.logs()).not.toContain(credential.PGPASSWORD);

    await s.advanceClock('3h');
    await until(async () => !(await fx.roleExists(credential.PGUSER ?? '')), 'the role to go');
    await until(async () => fulfilmentsOf(requestId).length === 2, 'the revocation report');
    expect(fulfilmentsOf(requestId)).toEqual([
      { phase: 'apply', outcome: 'success', target: 'appdb' },
      { phase: 'revoke', outcome: 'success', target: 'appdb' },
    ]);
  }, 60_000);

  it('revokes the role at once when the warrant is revoked', async () => {
    const { token, warrantId } = await brokeredWarrant();
    const credential = await mintedCredential(token);
    expect(await fx.roleExists(credential.PGUSER ?? '')).toBe(true);
    const r = await s.http('POST', `/v1/warrants/${warrantId}/revocation`, {
      as: 'alice',
      body: { reason: 'the agent misbehaved' },
    });
    expect(r.status, r.text).toBe(200);
    await until(async () => !(await fx.roleExists(credential.PGUSER ?? '')), 'the role to go');
  }, 60_000);

  it('raises EXPIRED_NOT_REVOKED while the database refuses the revocation, and clears it once it succeeds', async () => {
    const { token, subject } = await brokeredWarrant();
    const credential = await mintedCredential(token);
    // The broker's admin can no longer log in, and its open sessions end.
    await fx.su.query('ALTER ROLE broker NOLOGIN');
    await fx.su.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'broker'",
    );
    await s.advanceClock('3h');
    await sleep(2500); // a sweep or two fail
    expect(await fx.roleExists(credential.PGUSER ?? '')).toBe(true);
    await reconcileNow(s);
    const open = (await findingsOf(s, subject)).filter((f) => f.kind === 'EXPIRED_NOT_REVOKED');
    expect(open.map((f) => f.state)).toEqual(['open']);

    await fx.su.query('ALTER ROLE broker LOGIN');
    await until(
      async () => !(await fx.roleExists(credential.PGUSER ?? '')),
      'the retried revocation',
    );
    await reconcileNow(s);
    const after = (await findingsOf(s, subject)).filter((f) => f.kind === 'EXPIRED_NOT_REVOKED');
    expect(after.map((f) => f.state)).toEqual(['resolved']);
  }, 90_000);

  it('runs a command under exec with the credential in its environment, and nowhere else', async () => {
    const psql = postgresTool('psql') ?? 'psql';
    const exec = async (sql: string) => {
      const { requestId, token } = await brokeredWarrant();
      const args = ['--resource', ACTION.resource, '--permission', 'read', '--env', 'staging'];
      const r = await s.cli(
        ['exec', '--warrant', token, ...args, '--target', 'appdb', '--', psql, '-XtAc', sql],
        'deploy-eu',
      );
      return { ...r, requestId };
    };
    const ok = await exec('SELECT count(*) FROM public.orders');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe('1');
    expect(ok.stderr).toContain('credential minted for the command');
    const refused = await exec('SELECT * FROM public.customers');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/permission denied/);

    // The passwords reached neither exec's output nor the log.
    const leaves = query<{ leaf: string }>(s.dataDir, 'select leaf from events');
    for (const text of [ok.stderr, refused.stderr, s.logs(), ...leaves.map((e) => e.leaf)]) {
      expect(text).not.toMatch(/PGPASSWORD=|password=/i);
    }
    // The broker reported the grant applied at its target: the command's report is not
    // a second one, and exec says so rather than claim its failure was recorded.
    const outcomes = (requestId: string) =>
      fulfilmentsOf(requestId).map((f) => `${f.phase}:${f.outcome}`);
    expect(outcomes(ok.requestId)).toEqual(['apply:success']);
    expect(outcomes(refused.requestId)).toEqual(['apply:success']);
    expect(refused.stderr).toContain('not recorded: a success is already on record');
  }, 60_000);

  it('writes the credential only to --credential-out, readable by its owner alone', async () => {
    const { token } = await brokeredWarrant();
    const file = join(s.dataDir, 'appdb.env');
    const r = await s.cli(
      [
        'redeem',
        '--warrant',
        token,
        '--resource',
        ACTION.resource,
        '--permission',
        'read',
        '--env',
        'staging',
        '--target',
        'appdb',
        '--credential-out',
        file,
      ],
      'deploy-eu',
    );
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    const password = /^PGPASSWORD='(.+)'$/m.exec(text)?.[1] ?? '';
    expect(password.length).toBeGreaterThan(20);
    expect(r.stdout + r.stderr).not.toContain(password);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  }, 60_000);
});
