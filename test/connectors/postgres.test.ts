import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf } from '../../src/core/canonical.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Connector, GrantRequest } from '../../src/connectors/connector.js';
import { roleNameFor } from '../../src/connectors/postgres.js';
import { POSTGRES_UNAVAILABLE } from '../helpers/postgres.js';
import { startFixture, type PgFixture } from './pg-fixture.js';

const HOUR = 3_600_000;
let n = 0;

/** A fresh grant of `read` on the given tables of connector `appdb`, for two hours. */
function request(tables: string[], extra: Partial<GrantRequest> = {}): GrantRequest {
  return {
    grantId: `grant-${process.pid}-${++n}`,
    subject: 'nhi:agent/reporting',
    scope: tables.map((t) => ({ resource: `pg/appdb/public/${t}`, permissions: ['read'] })),
    notAfter: new Date(Date.now() + 2 * HOUR),
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (e: Error & { code?: string }) => e,
  );
}

describe.skipIf(POSTGRES_UNAVAILABLE !== null)('the PostgreSQL connector: grant', () => {
  let db: PgFixture;
  let connector: Connector;
  const sessions: pg.Client[] = [];
  const login = async (credential: Readonly<Record<string, string>>) => {
    const c = await db.login(credential);
    sessions.push(c);
    return c;
  };

  beforeAll(async () => {
    db = await startFixture();
    connector = db.connector();
  });
  afterAll(async () => {
    for (const s of sessions) await s.end().catch(() => undefined);
    await db?.stop();
  });

  describe('when an agent is approved to read orders and invoices', () => {
    it('mints a role that reads both, and PostgreSQL itself refuses customers and INSERT', async () => {
      const grant = await connector.grant(request(['orders', 'invoices']));
      const s = await login(grant.credential);
      expect((await s.query('SELECT id FROM public.orders')).rows).toEqual([{ id: 1 }]);
      expect((await s.query('SELECT id FROM public.invoices')).rows).toEqual([{ id: 1 }]);
      await expect(s.query('SELECT id FROM public.customers')).rejects.toThrow(/permission denied/);
      await expect(s.query('INSERT INTO public.orders VALUES (2)')).rejects.toThrow(
        /permission denied/,
      );
    });

    it('returns the credential with its digestOf fingerprint and the role as handle', async () => {
      const req = request(['orders']);
      const grant = await connector.grant(req);
      expect(grant.handle).toBe(roleNameFor(req.grantId));
      expect(grant.handle).toMatch(/^cs_[0-9a-f]{12}$/);
      expect(grant.credential).toEqual({
        PGHOST: '127.0.0.1',
        PGPORT: String(db.port),
        PGDATABASE: db.database,
        PGUSER: grant.handle,
        PGPASSWORD: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });
      expect(grant.fingerprint).toBe(digestOf(grant.credential));
    });

    it('sets VALID UNTIL to the window end, labels the role, and never sends the password', async () => {
      const req = request(['orders']);
      const grant = await connector.grant(req);
      const role = await db.su.query(
        "SELECT rolvaliduntil, shobj_description(oid, 'pg_authid') AS comment, rolpassword " +
          'FROM pg_authid WHERE rolname = $1',
        [grant.handle],
      );
      expect(role.rows[0].rolvaliduntil).toEqual(req.notAfter);
      expect(role.rows[0].comment).toBe(`countersign grant ${req.grantId} for nhi:agent/reporting`);
      // Sent as a SCRAM secret, so no server log or statistics view ever held the plaintext.
      expect(role.rows[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    });

    it('grants nothing schema-wide beyond USAGE, and no default privileges', async () => {
      const grant = await connector.grant(request(['orders']));
      const schema = await db.su.query(
        "SELECT has_schema_privilege($1, 'public', 'CREATE') AS can_create",
        [grant.handle],
      );
      expect(schema.rows[0].can_create).toBe(false);
      const defaults = await db.su.query('SELECT count(*)::int AS n FROM pg_default_acl');
      expect(defaults.rows[0].n).toBe(0);
    });
  });

  describe('when the window has already passed at the database', () => {
    it('is refused a login by PostgreSQL, which enforces VALID UNTIL', async () => {
      const clock = new ManualClock('2020-01-01T00:00:00Z');
      const stale = db.connector({}, clock);
      const grant = await stale.grant(request(['orders'], { notAfter: new Date('2020-01-02') }));
      await expect(db.login(grant.credential)).rejects.toMatchObject({ code: '28P01' });
    });
  });

  describe('when the same grant is retried', () => {
    it('keeps one role, and only the fresh password logs in', async () => {
      const req = request(['orders']);
      const first = await connector.grant(req);
      const second = await connector.grant(req);
      expect(second.handle).toBe(first.handle);
      expect(second.credential.PGPASSWORD).not.toBe(first.credential.PGPASSWORD);
      await expect(db.login(first.credential)).rejects.toMatchObject({ code: '28P01' });
      await login(second.credential);
      const roles = await db.su.query(
        'SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1',
        [first.handle],
      );
      expect(roles.rows[0].n).toBe(1);
    });

    it('makes one role even when the retries race', async () => {
      const req = request(['orders', 'invoices']);
      const grants = await Promise.all([connector.grant(req), connector.grant(req)]);
      expect(new Set(grants.map((g) => g.handle)).size).toBe(1);
      expect(await db.roleExists(grants[0].handle)).toBe(true);
    });
  });

  describe('when the scope cannot be granted as written', () => {
    it('refuses a table that does not exist before any DDL, creating no role', async () => {
      const req = request(['orders', 'no_such_table']);
      const e = await rejection(connector.grant(req));
      expect(e.code).toBe('CONNECTOR_SCOPE_INVALID');
      expect(await db.roleExists(roleNameFor(req.grantId))).toBe(false);
    });

    it('refuses resources of another connector or shape, unknown permissions, wildcards and system schemas', async () => {
      const bad = [
        { resource: 'pg/otherdb/public/orders', permissions: ['read'] },
        { resource: 'pg/appdb/orders', permissions: ['read'] },
        { resource: 'mysql/appdb/public/orders', permissions: ['read'] },
        { resource: 'pg/appdb/public/orders', permissions: ['admin'] },
        { resource: 'pg/appdb/public/*', permissions: ['read'] },
        { resource: 'pg/appdb/pg_catalog/pg_authid', permissions: ['read'] },
      ];
      for (const entry of bad) {
        const req = request([], { scope: [entry] });
        const e = await rejection(connector.grant(req));
        expect(e.code, entry.resource).toBe('CONNECTOR_SCOPE_INVALID');
        expect(await db.roleExists(roleNameFor(req.grantId))).toBe(false);
      }
    });

    it('never executes a table name that tries to inject SQL', async () => {
      const evil = [
        'orders; DROP TABLE public.customers; --',
        'orders" TO PUBLIC; DROP TABLE public.customers; --',
        "orders'; DROP TABLE public.customers; --",
      ];
      for (const table of evil) {
        const e = await rejection(connector.grant(request([table])));
        expect(e.code).toBe('CONNECTOR_SCOPE_INVALID');
      }
      const still = await db.su.query("SELECT to_regclass('public.customers') IS NOT NULL AS ok");
      expect(still.rows[0].ok).toBe(true);
    });

    it('quotes a real table whose name holds quotes and a semicolon, granting exactly it', async () => {
      const odd = 'odd"name; DROP TABLE public.customers; --';
      const ident = db.su.escapeIdentifier(odd);
      await db.su.query(
        `CREATE TABLE public.${ident} (id int); INSERT INTO public.${ident} VALUES (7)`,
      );
      await db.su.query(`ALTER TABLE public.${ident} OWNER TO broker`);
      const grant = await connector.grant(request([odd]));
      const s = await login(grant.credential);
      expect((await s.query(`SELECT id FROM public.${ident}`)).rows).toEqual([{ id: 7 }]);
      await expect(s.query('SELECT id FROM public.orders')).rejects.toThrow(/permission denied/);
      const still = await db.su.query("SELECT to_regclass('public.customers') IS NOT NULL AS ok");
      expect(still.rows[0].ok).toBe(true);
    });

    it('refuses a window that has already ended, and a schema outside schemaAllow', async () => {
      const past = request(['orders'], { notAfter: new Date(Date.now() - 1000) });
      expect((await rejection(connector.grant(past))).code).toBe('CONNECTOR_SCOPE_INVALID');
      const narrow = db.connector({ schemaAllow: ['reporting'] });
      expect((await rejection(narrow.grant(request(['orders'])))).code).toBe(
        'CONNECTOR_SCOPE_INVALID',
      );
    });

    it('fails whole, creating no role, when the admin may not grant a privilege', async () => {
      // broker may read ledger but not pass that on: PostgreSQL only warns and grants nothing.
      await db.su.query(
        'CREATE TABLE public.ledger (id int); GRANT SELECT ON public.ledger TO broker',
      );
      const req = request(['orders', 'ledger']);
      const e = await rejection(connector.grant(req));
      expect(e.code).toBe('CONNECTOR_FAILED');
      expect(await db.roleExists(roleNameFor(req.grantId))).toBe(false);
    });
  });

  describe('when the admin connection is misconfigured', () => {
    it('fails with CONNECTOR_FAILED, never showing the password or the URL', async () => {
      const wrong = 'wrong-admin-password-5d7a91';
      const url = db.url('broker', wrong);
      const bad = db.connector({ url });
      const attempts = [
        () => bad.grant(request(['orders'])),
        () => bad.observe(),
        () => bad.revoke('cs_0123456789ab'),
      ];
      for (const attempt of attempts) {
        const e = await rejection(attempt());
        expect(e.code).toBe('CONNECTOR_FAILED');
        expect(e.message).toMatch(/password authentication failed/);
        for (const text of [e.message, e.stack ?? '', JSON.stringify(e), String(e)]) {
          expect(text).not.toContain(wrong);
          expect(text).not.toContain(url);
        }
      }
    });

    it('refuses an admin URL that names another database than the credential', async () => {
      const other = db.connector({ database: 'elsewhere' });
      const e = await rejection(other.grant(request(['orders'])));
      expect(e.code).toBe('CONNECTOR_FAILED');
      expect(e.message).toMatch(/another database/);
    });
  });
});
