import pg from 'pg';
import type { Clock } from '../../src/core/clock.js';
import type { Connector } from '../../src/connectors/connector.js';
import { postgresConnector, type PostgresConnectorConfig } from '../../src/connectors/postgres.js';
import { startPostgres, type PostgresCluster } from '../helpers/postgres.js';

/**
 * A throwaway cluster set up the way a connector meets a real database: passwords are
 * checked (SCRAM) for everyone but the test's own superuser, and the connector's admin
 * is `broker`, which is no superuser: CREATEROLE, pg_signal_backend, and owner of the
 * tables orders, invoices and customers (one row each).
 */
export interface PgFixture {
  readonly port: number;
  readonly database: string;
  readonly adminPassword: string;
  /** A URL for `user` with `password` to the fixture's database. */
  url(user: string, password: string): string;
  /** The test's superuser session, trusted without a password. */
  readonly su: pg.Client;
  connector(overrides?: Partial<PostgresConnectorConfig>, clock?: Clock): Connector;
  /** A session logged in with a minted credential (its errors are caught, not thrown). */
  login(credential: Readonly<Record<string, string>>): Promise<pg.Client>;
  roleExists(role: string): Promise<boolean>;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = 'broker-admin-pw-3f9c2e';

export async function startFixture(): Promise<PgFixture> {
  const cluster: PostgresCluster = await startPostgres();
  const trusted = await cluster.createDatabase('appdb');
  const database = new URL(trusted).pathname.slice(1);
  const su = new pg.Client({ connectionString: trusted });
  await su.connect();
  const url = (user: string, password: string) =>
    `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/${database}`;

  await su.query(`
    CREATE ROLE broker LOGIN CREATEROLE PASSWORD ${su.escapeLiteral(ADMIN_PASSWORD)};
    GRANT pg_signal_backend TO broker;
    GRANT USAGE ON SCHEMA public TO broker WITH GRANT OPTION;
    CREATE TABLE public.orders (id int);    INSERT INTO public.orders VALUES (1);
    CREATE TABLE public.invoices (id int);  INSERT INTO public.invoices VALUES (1);
    CREATE TABLE public.customers (id int); INSERT INTO public.customers VALUES (1);
    ALTER TABLE public.orders OWNER TO broker;
    ALTER TABLE public.invoices OWNER TO broker;
    ALTER TABLE public.customers OWNER TO broker;`);
  await requirePasswords(su, url('broker', 'not-yet'));

  const connectors: Connector[] = [];
  const fixture: PgFixture = {
    port: cluster.port,
    database,
    adminPassword: ADMIN_PASSWORD,
    url,
    su,
    connector(overrides = {}, clock) {
      const c = postgresConnector(
        {
          name: 'appdb',
          url: url('broker', ADMIN_PASSWORD),
          database,
          protectedTables: ['public.customers'],
          connectTimeoutMs: 5000,
          ...overrides,
        },
        clock === undefined ? {} : { clock },
      );
      connectors.push(c);
      return c;
    },
    async login(credential) {
      const c = new pg.Client({
        host: credential.PGHOST,
        port: Number(credential.PGPORT),
        database: credential.PGDATABASE,
        user: credential.PGUSER,
        password: credential.PGPASSWORD,
      });
      c.on('error', () => undefined); // a terminated session also reports here
      await c.connect();
      return c;
    },
    async roleExists(role) {
      const r = await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      return r.rowCount === 1;
    },
    async stop() {
      for (const c of connectors) await c.close();
      await su.end();
      await cluster.stop();
    },
  };
  return fixture;
}

/**
 * The test cluster trusts every local login; here only `postgres` keeps that, and every
 * other role must present its password, so that a minted password, VALID UNTIL and a
 * dropped role are really put to the test. The server reloads pg_hba.conf on a signal,
 * so this waits until a wrong password is refused.
 */
async function requirePasswords(su: pg.Client, wrongPasswordUrl: string): Promise<void> {
  const file = (await su.query<{ hba_file: string }>('SHOW hba_file')).rows[0]!.hba_file;
  const lines = [
    'local all all trust',
    'host all postgres 127.0.0.1/32 trust',
    'host all all 127.0.0.1/32 scram-sha-256',
  ];
  const values = lines.map((l) => `(${su.escapeLiteral(l)})`).join(', ');
  await su.query(`COPY (VALUES ${values}) TO ${su.escapeLiteral(file)}`);
  await su.query('SELECT pg_reload_conf()');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new pg.Client({ connectionString: wrongPasswordUrl });
    probe.on('error', () => undefined);
    const refused = await probe.connect().then(
      () => false,
      (e: { code?: string }) => e.code === '28P01',
    );
    await probe.end().catch(() => undefined);
    if (refused) return;
    if (Date.now() > deadline) throw new Error('pg_hba.conf was not reloaded');
    await new Promise((r) => setTimeout(r, 50));
  }
}
