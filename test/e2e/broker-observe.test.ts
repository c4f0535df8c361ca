import { createHash } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type PgFixture } from '../connectors/pg-fixture.js';
import { brokerConfig, brokeredWarrant, mintedCredential, until } from '../helpers/broker.js';
import { query } from '../helpers/db.js';
import { POSTGRES_UNAVAILABLE } from '../helpers/postgres.js';
import { findingsOf, reconcileNow } from '../helpers/reconcile.js';
import { TestServer } from '../helpers/server.js';

/**
 * The broker as a collector of its own target: what the database holds is observed
 * and reconciled, so a privilege nobody approved is found, and the broker's state is
 * visible in `/readyz`. A revoked signing key takes the credentials it vouched for.
 */

interface ExceptionJson {
  warrantId: string;
  status: string;
  lateRevocation: boolean;
}

let fx: PgFixture;
let s: TestServer;

beforeAll(async () => {
  if (POSTGRES_UNAVAILABLE !== null) return;
  fx = await startFixture();
  s = await TestServer.start(brokerConfig(fx, { observeInterval: '1s' }));
}, 120_000);

afterAll(async () => {
  await s?.stop();
  await fx?.stop();
});

const findingsAt = async (subject: string, kind: string) =>
  (await findingsOf(s, subject)).filter((f) => f.kind === kind);

const observationsOf = (subject: string) =>
  query<{ fact: string }>(
    s.dataDir,
    "select fact from observations where subject = ? and target = 'appdb' order by observed_at",
    subject,
  ).map((o) => JSON.parse(o.fact) as { resource: string; permission: string; present: boolean });

const readyz = async () =>
  (await s.http('GET', '/readyz')).body as {
    status: string;
    broker?: {
      revocations: { overdue: number; failing: number; oldestDueAt: string | null };
      connectors: { name: string; lastObservedAt: string | null; failingSince: string | null }[];
    };
  };

describe.skipIf(POSTGRES_UNAVAILABLE !== null)('the broker observing its database', () => {
  it('raises UNAPPROVED_CHANGE for a role made by hand with SELECT on a protected table', async () => {
    await fx.su.query('CREATE ROLE reporting_tool LOGIN');
    await fx.su.query('GRANT SELECT ON public.customers TO reporting_tool');
    const subject = 'dbrole:appdb/reporting_tool';
    await until(async () => observationsOf(subject).length > 0, 'the hand-made grant observed');
    expect(observationsOf(subject)).toEqual([
      { kind: 'grant', resource: 'pg/appdb/public/customers', permission: 'read', present: true },
    ]);
    const nhi = await s.http('GET', `/v1/nhis/${encodeURIComponent(subject)}`, { as: 'audra' });
    expect(nhi.body).toMatchObject({ owner: 'countersign', kind: 'service_account' });

    await reconcileNow(s);
    const found = await findingsAt(subject, 'UNAPPROVED_CHANGE');
    expect(found.map((f) => [f.state, f.target])).toEqual([['open', 'appdb']]);
    expect(found[0]?.evidence.observations.length).toBeGreaterThan(0);

    // Taken away by hand: observed absent once, and not recorded again.
    await fx.su.query('REVOKE SELECT ON public.customers FROM reporting_tool');
    await until(async () => observationsOf(subject).length === 2, 'the grant observed gone');
    await sleep(1500);
    expect(observationsOf(subject).map((o) => o.present)).toEqual([true, false]);
  }, 60_000);

  it('observes two roles that differ only in case as one NHI, and keeps observing', async () => {
    // Quoted, PostgreSQL keeps the case: two roles, whose NHI ids share a comparison key.
    await fx.su.query('CREATE ROLE "Shadow_Reader" LOGIN');
    await fx.su.query('CREATE ROLE shadow_reader LOGIN');
    await fx.su.query('GRANT SELECT ON public.customers TO "Shadow_Reader"');
    await fx.su.query('GRANT INSERT ON public.customers TO shadow_reader');
    const ids = ['dbrole:appdb/Shadow_Reader', 'dbrole:appdb/shadow_reader'];
    await until(
      async () => ids.some((id) => observationsOf(id).length >= 2),
      'both roles observed under one NHI',
    );
    const [subject] = ids.filter((id) => observationsOf(id).length > 0);
    expect(
      observationsOf(subject!)
        .map((o) => [o.permission, o.present])
        .sort(),
    ).toEqual([
      ['read', true],
      ['write', true],
    ]);
    await reconcileNow(s);
    expect((await findingsAt(subject!, 'UNAPPROVED_CHANGE')).length).toBeGreaterThan(0);
    // The sweep goes on: a later change on the target is still seen.
    await fx.su.query('CREATE ROLE later_role LOGIN');
    await fx.su.query('GRANT SELECT ON public.customers TO later_role');
    await until(
      async () => observationsOf('dbrole:appdb/later_role').length > 0,
      'a role made afterwards observed',
    );
  }, 60_000);

  it('does not believe a role that only claims, by name and comment, to be minted', async () => {
    const { subject } = await brokeredWarrant(s);
    // Named exactly as the connector would name a role minted for grant `rcpt_forged`.
    const forged = `cs_${createHash('sha256').update('rcpt_forged').digest('hex').slice(0, 12)}`;
    await fx.su.query(`CREATE ROLE ${forged} LOGIN`);
    await fx.su.query(
      `COMMENT ON ROLE ${forged} IS ${fx.su.escapeLiteral(`countersign grant rcpt_forged for ${subject}`)}`,
    );
    await fx.su.query(`GRANT SELECT ON public.orders TO ${forged}`);
    const discovered = `dbrole:appdb/${forged}`;
    await until(async () => observationsOf(discovered).length > 0, 'the forged role observed');
    expect(observationsOf(subject)).toEqual([]);
    await reconcileNow(s);
    expect((await findingsAt(discovered, 'UNAPPROVED_CHANGE')).length).toBe(1);
  }, 60_000);

  it('observes a minted role under its NHI, as approved, and gone once revoked', async () => {
    const { subject, token: jwt, warrantId } = await brokeredWarrant(s);
    const credential = await mintedCredential(s, jwt);
    const role = credential.PGUSER ?? '';
    await until(async () => observationsOf(subject).length === 2, 'the minted grants observed');
    expect(
      observationsOf(subject)
        .map((o) => [o.resource, o.present])
        .sort(),
    ).toEqual([
      ['pg/appdb/public/invoices', true],
      ['pg/appdb/public/orders', true],
    ]);
    await reconcileNow(s);
    const kinds = (await findingsOf(s, subject)).map((f) => f.kind);
    expect(kinds).not.toContain('UNAPPROVED_CHANGE');
    expect(kinds).not.toContain('SCOPE_EXCEEDED_OBSERVED');
    expect(observationsOf(`dbrole:appdb/${role}`)).toEqual([]);

    const r = await s.http('POST', `/v1/warrants/${warrantId}/revocation`, {
      as: 'alice',
      body: { reason: 'done early' },
    });
    expect(r.status, r.text).toBe(200);
    await until(async () => observationsOf(subject).length === 4, 'the grants observed gone');
    expect(
      observationsOf(subject)
        .slice(2)
        .map((o) => o.present),
    ).toEqual([false, false]);
  }, 60_000);

  it('revokes within the window, then observes the grant gone after its end: revoked, on time', async () => {
    const { subject, token: jwt, warrantId } = await brokeredWarrant(s);
    const credential = await mintedCredential(s, jwt);
    const [row] = query<{ not_after: string }>(
      s.dataDir,
      'select not_after from warrants where id = ?',
      warrantId,
    );
    const end = Date.parse(row?.not_after ?? '');
    // Three seconds before the end: the grant falls due one sweep interval (1 s) before it.
    await s.setClock(new Date(end - 3000));
    await until(async () => !(await fx.roleExists(credential.PGUSER ?? '')), 'the role to go');
    const goneAfterEnd = () =>
      query<{ n: number }>(
        s.dataDir,
        'select count(*) as n from observations where subject = ? and observed_at > ? and fact like \'%"present":false%\'',
        subject,
        new Date(end).toISOString(),
      )[0]?.n ?? 0;
    await until(async () => goneAfterEnd() >= 2, 'both grants observed gone after the end');
    await reconcileNow(s);
    const r = await s.http('GET', '/v1/reports/exceptions', { as: 'audra' });
    const exception = (r.body as { exceptions: ExceptionJson[] }).exceptions.find(
      (e) => e.warrantId === warrantId,
    );
    expect(exception).toMatchObject({ status: 'revoked', lateRevocation: false });
    expect(await findingsAt(subject, 'EXPIRED_NOT_REVOKED')).toEqual([]);
  }, 60_000);

  it('reports the revocation schedule and each connector in /readyz', async () => {
    const r = await readyz();
    expect(r.status).toBe('ready');
    expect(r.broker?.revocations).toEqual({ overdue: 0, failing: 0, oldestDueAt: null });
    expect(r.broker?.connectors).toEqual([
      { name: 'appdb', lastObservedAt: expect.any(String), failingSince: null },
    ]);
  });

  it('revokes every credential a signing key vouched for when the key is revoked', async () => {
    const { token: jwt, requestId } = await brokeredWarrant(s);
    const credential = await mintedCredential(s, jwt);
    expect(await fx.roleExists(credential.PGUSER ?? '')).toBe(true);
    const { kid } = decodeProtectedHeader(jwt);
    const r = await s.http('POST', `/v1/keys/${kid}/revocation`, {
      as: 'admin',
      body: { reason: 'the key leaked' },
    });
    expect(r.status, r.text).toBe(200);
    await until(async () => !(await fx.roleExists(credential.PGUSER ?? '')), 'the role to go');
    const revokeReports = () =>
      query<{ phase: string }>(
        s.dataDir,
        "select phase from fulfilments where request_id = ? and phase = 'revoke'",
        requestId,
      ).length;
    await until(() => revokeReports() > 0, 'the revocation report');
    expect(revokeReports()).toBe(1);
  }, 60_000);

  it('shows failing revocations and observation in /readyz while the database refuses, and stays ready', async () => {
    const { token: jwt } = await brokeredWarrant(s);
    const credential = await mintedCredential(s, jwt);
    await fx.su.query('ALTER ROLE broker NOLOGIN');
    await fx.su.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'broker'",
    );
    await s.advanceClock('3h');
    await until(async () => {
      const b = (await readyz()).broker;
      return (b?.revocations.failing ?? 0) > 0 && b?.connectors[0]?.failingSince !== null;
    }, 'a failed revocation and a failed observation');
    const r = await readyz();
    expect(r.status).toBe('ready');
    expect(r.broker?.revocations.overdue).toBeGreaterThanOrEqual(1);
    expect(r.broker?.connectors[0]?.failingSince).toEqual(expect.any(String));
    expect(JSON.stringify(r)).not.toContain(credential.PGPASSWORD);

    await fx.su.query('ALTER ROLE broker LOGIN');
    await until(async () => ((await readyz()).broker?.revocations.overdue ?? 1) === 0, 'recovery');
    await until(
      async () => (await readyz()).broker?.connectors[0]?.failingSince === null,
      'observation to recover',
    );
  }, 90_000);
});
