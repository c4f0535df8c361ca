import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pgQuery,
  POSTGRES_UNAVAILABLE,
  startPostgres,
  type PostgresCluster,
} from '../helpers/postgres.js';
import { runCli, TestServer } from '../helpers/server.js';
import { crashScenario, type AllowEvent, type StoredWarrant } from './crash-round.js';

// The same rounds as crash-redemptions.test.ts, on PostgreSQL, where an allowed redemption
// is one statement (decision 0025): a kill lands between sending it and reading its answer.
describe.skipIf(POSTGRES_UNAVAILABLE !== null)('redemptions across SIGKILL on PostgreSQL', () => {
  let cluster: PostgresCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  describe('when the node is killed in the middle of 2,000 concurrent redemptions', () => {
    it('never spends a warrant past maxUses and logs every acknowledged receipt', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-fault-crash-pg-'));
      const databaseUrl = await cluster.createDatabase('crash');
      const start = () => TestServer.start({ dataDir: dir, databaseUrl });
      const server = { current: await start() };
      try {
        await crashScenario(' (PostgreSQL)', server, start, {
          warrants: () =>
            pgQuery<StoredWarrant>(databaseUrl, 'select id, uses, max_uses from warrants'),
          allowEvents: () =>
            pgQuery<AllowEvent>(
              databaseUrl,
              `select warrant_id, leaf::jsonb -> 'data' -> 'receipt' ->> 'jti' as jti,
                      (leaf::jsonb -> 'data' -> 'receipt')::text as claims
                 from events where type = 'redemption.allowed'`,
            ),
        });
        const verify = await runCli(['log', 'verify', '--database', databaseUrl], {});
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      } finally {
        await server.current.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 240_000);
  });
});
