import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pgQuery,
  POSTGRES_UNAVAILABLE,
  startPostgres,
  type PostgresCluster,
} from '../helpers/postgres.js';
import { runCli, TestServer } from '../helpers/server.js';

// What only a PostgreSQL deployment has: a schema migrated apart from the nodes, and a
// database that can go away under a running node. The approval chain, the log, evidence,
// concurrency, crashes and reconciliation run on PostgreSQL in their own suites
// (test/helpers/e2e-stores.ts). This file keeps a cluster of its own because it stops it.
describe.skipIf(POSTGRES_UNAVAILABLE !== null)('a server on PostgreSQL', () => {
  let cluster: PostgresCluster;
  let url: string;
  let s: TestServer;

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase('e2e');
    s = await TestServer.start({ databaseUrl: url });
  });
  afterAll(async () => {
    await s?.stop();
    await cluster?.stop();
  });

  describe('when `countersign migrate` runs against the database', () => {
    it('finds the schema a node migrated up to date and exits 0, naming the database without its password', async () => {
      // The cluster trusts local connections, so the password is sent and not needed.
      const withPassword = `${url.replace('postgres@', 'postgres:pw-not-to-print@')}?sslmode=disable`;
      const out = await runCli(['migrate', '--database', withPassword], {});
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toBe(`postgres schema is up to date (${url})\n`);
      expect(out.stdout + out.stderr).not.toContain('pw-not-to-print');
    });

    it('migrates a fresh database named by COUNTERSIGN_DATABASE_URL', async () => {
      const fresh = await cluster.createDatabase('fresh');
      const out = await runCli(['migrate'], { COUNTERSIGN_DATABASE_URL: fresh });
      expect(out.code, out.stderr).toBe(0);
      const tables = await pgQuery<{ name: string }>(
        fresh,
        "select table_name as name from information_schema.tables where table_schema = 'public'",
      );
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['events', 'warrants', 'checkpoints', 'kysely_migration']),
      );
    });
  });

  describe('health endpoints', () => {
    it('answers /healthz and /readyz while the database is up, and 503 NOT_READY once it is gone', async () => {
      expect((await s.http('GET', '/healthz')).status).toBe(200);
      const ready = await s.http('GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready' });

      await cluster.stop();
      const down = await s.http('GET', '/readyz');
      expect(down.status).toBe(503);
      expect(down.headers.get('content-type')).toContain('application/problem+json');
      expect(down.body.code).toBe('NOT_READY');
      expect(down.text).not.toContain('127.0.0.1');
      expect((await s.http('GET', '/healthz')).status).toBe(200);
    });
  });
});
