import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, GrantRequest } from '../../src/connectors/connector.js';
import { POSTGRES_UNAVAILABLE } from '../helpers/postgres.js';
import { ADMIN_PASSWORD, startFixture, type PgFixture } from './pg-fixture.js';

let n = 0;
function request(tables: string[], permissions = ['read']): GrantRequest {
  return {
    grantId: `grant-${process.pid}-${++n}`,
    subject: 'nhi:agent/reporting',
    scope: tables.map((t) => ({ resource: `pg/appdb/public/${t}`, permissions })),
    notAfter: new Date(Date.now() + 7_200_000),
  };
}

describe.skipIf(POSTGRES_UNAVAILABLE !== null)(
  'the PostgreSQL connector: revoke and observe',
  () => {
    let db: PgFixture;
    let connector: Connector;

    beforeAll(async () => {
      db = await startFixture();
      connector = db.connector();
    });
    afterAll(async () => {
      await db?.stop();
    });

    describe('revoke', () => {
      it('ends an open session of the role, drops it, and the credential no longer logs in', async () => {
        const grant = await connector.grant(request(['orders']));
        const session = await db.login(grant.credential);
        await session.query('SELECT id FROM public.orders');

        await connector.revoke(grant.handle);

        await expect(session.query('SELECT 1')).rejects.toThrow();
        expect(await db.roleExists(grant.handle)).toBe(false);
        await expect(db.login(grant.credential)).rejects.toMatchObject({ code: '28P01' });
        const left = await db.su.query('SELECT 1 FROM pg_stat_activity WHERE usename = $1', [
          grant.handle,
        ]);
        expect(left.rowCount).toBe(0);
      });

      it('gives up on a lock an open transaction holds, so the sweep behind it goes on', async () => {
        const slow = db.connector({ statementTimeoutMs: 500 });
        const grant = await slow.grant(request(['invoices']));
        // A DBA's transaction left open after changing the same table's grants.
        const dba = new pg.Client({ connectionString: db.url('broker', ADMIN_PASSWORD) });
        await dba.connect();
        try {
          await dba.query('BEGIN');
          await dba.query('GRANT SELECT ON public.invoices TO broker');
          await expect(slow.revoke(grant.handle)).rejects.toMatchObject({
            code: 'CONNECTOR_FAILED',
          });
        } finally {
          await dba.query('ROLLBACK');
          await dba.end();
        }
        await slow.revoke(grant.handle);
        expect(await db.roleExists(grant.handle)).toBe(false);
      });

      it('succeeds when the role is already gone, so revoking twice is safe', async () => {
        const grant = await connector.grant(request(['orders']));
        await connector.revoke(grant.handle);
        await connector.revoke(grant.handle);
        expect(await db.roleExists(grant.handle)).toBe(false);
      });

      it('refuses a handle it never mints, and leaves alone a cs_ role it did not mint', async () => {
        await expect(connector.revoke('postgres')).rejects.toMatchObject({
          code: 'CONNECTOR_SCOPE_INVALID',
        });
        await db.su.query('CREATE ROLE cs_0000000000aa LOGIN');
        await expect(connector.revoke('cs_0000000000aa')).rejects.toMatchObject({
          code: 'CONNECTOR_FAILED',
        });
        expect(await db.roleExists('cs_0000000000aa')).toBe(true);
        await db.su.query('DROP ROLE cs_0000000000aa');
      });

      it('works the same with a superuser admin, which needs no membership', async () => {
        await db.su.query(`CREATE ROLE root_admin LOGIN SUPERUSER PASSWORD '${ADMIN_PASSWORD}'`);
        const su = db.connector({ url: db.url('root_admin', ADMIN_PASSWORD) });
        const grant = await su.grant(request(['orders']));
        const session = await db.login(grant.credential);
        expect((await session.query('SELECT id FROM public.orders')).rows).toEqual([{ id: 1 }]);
        await su.revoke(grant.handle);
        await expect(session.query('SELECT 1')).rejects.toThrow();
        expect(await db.roleExists(grant.handle)).toBe(false);
      });
    });

    describe('observe', () => {
      it('maps a minted role’s grants back to permissions, with its subject and window', async () => {
        const req = request(['orders', 'invoices']);
        const grant = await connector.grant(req);
        const mine = (await connector.observe()).filter((o) => o.role === grant.handle);
        expect(mine).toEqual(
          ['invoices', 'orders'].map((t) => ({
            target: 'appdb',
            subject: 'nhi:agent/reporting',
            role: grant.handle,
            resource: `pg/appdb/public/${t}`,
            permission: 'read',
            validUntil: req.notAfter.toISOString(),
            managed: true,
            grantId: req.grantId,
          })),
        );
        await connector.revoke(grant.handle);
        expect((await connector.observe()).filter((o) => o.role === grant.handle)).toEqual([]);
      });

      it('reports each privilege of a multi-privilege permission under that permission once', async () => {
        const grant = await connector.grant(request(['orders'], ['write']));
        const mine = (await connector.observe()).filter((o) => o.role === grant.handle);
        expect(mine.map((o) => [o.resource, o.permission])).toEqual([
          ['pg/appdb/public/orders', 'write'],
        ]);
      });

      it('reports a hand-made role with SELECT on a protected table as unmanaged', async () => {
        await db.su.query('CREATE ROLE auditor LOGIN; GRANT SELECT ON public.customers TO auditor');
        // A privilege on an unprotected table is not this connector's business.
        await db.su.query('GRANT SELECT ON public.orders TO auditor');
        const seen = (await connector.observe()).filter((o) => !o.managed);
        expect(seen).toEqual([
          {
            target: 'appdb',
            subject: null,
            role: 'auditor',
            resource: 'pg/appdb/public/customers',
            permission: 'read',
            validUntil: null,
            managed: false,
          },
        ]);
      });

      it('reports a minted role that holds no privilege any more as a live login', async () => {
        const grant = await connector.grant(request(['orders']));
        await db.su.query(`REVOKE ALL ON public.orders FROM ${grant.handle}`);
        const mine = (await connector.observe()).filter((o) => o.role === grant.handle);
        expect(mine.map((o) => [o.resource, o.permission, o.managed])).toEqual([
          ['pg/appdb', 'login', true],
        ]);
      });
    });
  },
);
