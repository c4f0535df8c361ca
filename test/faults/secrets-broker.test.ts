import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startFixture, type PgFixture } from '../connectors/pg-fixture.js';
import { BROKERED_ACTION, brokerConfig, brokeredWarrant, until } from '../helpers/broker.js';
import { POSTGRES_UNAVAILABLE } from '../helpers/postgres.js';
import { TestServer, type HttpResult } from '../helpers/server.js';
import { leaksIn } from './support.js';

/**
 * A brokered credential is shown once, in the answer to its redemption, and nowhere
 * else: not in a log line, an event, an error body, an evidence bundle, the CLI's own
 * output, or any byte of the store.
 */

let fx: PgFixture;
let s: TestServer;

beforeAll(async () => {
  if (POSTGRES_UNAVAILABLE !== null) return;
  fx = await startFixture();
  const { config, env } = brokerConfig(fx);
  s = await TestServer.start({ config, env: { ...env, COUNTERSIGN_LOG_LEVEL: 'debug' } });
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await fx?.stop();
});

const redeem = (token: string, idempotencyKey?: string) =>
  s.http('POST', '/v1/redemptions', {
    as: 'deploy-eu',
    body: {
      warrant: token,
      action: BROKERED_ACTION,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    },
  });

/** Every file under `dir`, as bytes read as latin1 (so any ASCII secret is found as is). */
function bytesUnder(dir: string): Array<[string, string]> {
  return readdirSync(dir).flatMap((name): Array<[string, string]> => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return bytesUnder(path);
    return [[`file ${name}`, readFileSync(path).toString('latin1')]];
  });
}

describe.skipIf(POSTGRES_UNAVAILABLE !== null)('a brokered credential', () => {
  it('is in the answer to its redemption and in no log, event, error, bundle, output or store byte', async () => {
    const seen: HttpResult[] = [];
    const keep = (r: HttpResult): HttpResult => (seen.push(r), r);

    // Minted once; the retry with the same key answers the same redemption without it.
    const first = await brokeredWarrant(s);
    const minted = await redeem(first.token, 'retry-1');
    expect(minted.status, minted.text).toBe(200);
    const credential = minted.body.credential as Record<string, string>;
    const retried = keep(await redeem(first.token, 'retry-1'));
    expect(retried.status).toBe(200);
    expect(retried.body.receiptId).toBe(minted.body.receiptId);
    expect(retried.body.credential).toBeUndefined();
    keep(await redeem(first.token)); // exhausted

    // A connector that fails: its error names the failure, never the admin URL.
    const second = await brokeredWarrant(s);
    await fx.su.query('ALTER ROLE broker NOLOGIN');
    await fx.su.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'broker'",
    );
    const failed = keep(await redeem(second.token));
    expect(failed.status).toBe(502);
    expect(failed.body.code).toBe('CONNECTOR_FAILED');
    await fx.su.query('ALTER ROLE broker LOGIN');

    // Through the CLI: to --credential-out, and into a command's environment.
    const third = await brokeredWarrant(s);
    const file = join(s.dataDir, '..', `cred-${process.pid}.env`);
    const action = ['--resource', BROKERED_ACTION.resource, '--permission', 'read'];
    const where = ['--env', 'staging', '--target', 'appdb'];
    const saved = await s.cli(
      ['redeem', '--warrant', third.token, ...action, ...where, '--credential-out', file],
      'deploy-eu',
    );
    expect(saved.code, saved.stderr).toBe(0);
    const cliPassword = /^PGPASSWORD='(.+)'$/m.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    const fourth = await brokeredWarrant(s);
    const echo = join(s.dataDir, '..', `exec-${process.pid}.txt`);
    const ran = await s.cli(
      [
        'exec',
        '--warrant',
        fourth.token,
        ...action,
        ...where,
        '--',
        'sh',
        '-c',
        `printf %s "$PGPASSWORD" > ${echo}`,
      ],
      'deploy-eu',
    );
    expect(ran.code, ran.stderr).toBe(0);
    const execPassword = readFileSync(echo, 'utf8');
    expect(execPassword.length).toBeGreaterThan(20);

    // Revoked, reconciled, and exported as evidence.
    for (const w of [first, third, fourth]) {
      keep(
        await s.http('POST', `/v1/warrants/${w.warrantId}/revocation`, {
          as: 'alice',
          body: { reason: 'scan' },
        }),
      );
    }
    await until(async () => !(await fx.roleExists(credential.PGUSER ?? '')), 'revocation');
    keep(await s.http('POST', '/v1/reconcile', { as: 'admin' }));
    const bundles = await Promise.all(
      [first, second, third, fourth].map((w) =>
        s.http('GET', `/v1/requests/${w.requestId}/evidence`, { as: 'audra' }),
      ),
    );
    for (const b of bundles) expect(b.status, b.text).toBe(200);

    const secrets: Array<[string, string]> = [
      ['minted password', credential.PGPASSWORD ?? '-'],
      ['password saved by the CLI', cliPassword],
      ['password given to exec', execPassword],
      ['admin password', ADMIN_PASSWORD],
    ];
    const haystacks: Array<[string, string]> = [
      ['server log', s.logs()],
      ['redeem output', saved.stdout + saved.stderr],
      ['exec output', ran.stdout + ran.stderr],
      ...seen.map((r, i) => [`answer ${i} (${r.status})`, r.text] as [string, string]),
      ...bundles.map((b, i) => [`evidence bundle ${i}`, b.text] as [string, string]),
      ...bytesUnder(s.dataDir),
    ];
    const leaks = leaksIn(secrets, haystacks).filter((l) => !l.startsWith('a compact JWS'));
    console.log(
      `broker secrets: scanned ${haystacks.length} texts (log, answers, bundles, CLI output, ` +
        `every file of the store) for ${secrets.length} secrets: ${leaks.length} leaks`,
    );
    expect(leaks).toEqual([]);
  }, 90_000);
});
