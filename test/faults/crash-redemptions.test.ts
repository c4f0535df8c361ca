import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { query } from '../helpers/db.js';
import { runCli, TestServer } from '../helpers/server.js';
import { crashScenario, type AllowEvent, type StoredWarrant } from './crash-round.js';

describe('redemptions across SIGKILL', () => {
  describe('when the server is killed in the middle of 2,000 concurrent redemptions', () => {
    it('never spends a warrant past maxUses and logs every acknowledged receipt', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-fault-crash-'));
      const server = { current: await TestServer.start({ dataDir: dir }) };
      try {
        await crashScenario('', server, () => TestServer.start({ dataDir: dir }), {
          warrants: () =>
            Promise.resolve(query<StoredWarrant>(dir, 'select id, uses, max_uses from warrants')),
          allowEvents: () =>
            Promise.resolve(
              query<AllowEvent>(
                dir,
                `select warrant_id, json_extract(leaf, '$.data.receipt.jti') as jti,
                        json_extract(leaf, '$.data.receipt') as claims
                   from events where type = 'redemption.allowed'`,
              ),
            ),
        });
        const verify = await runCli(['log', 'verify', '--data', dir], {});
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      } finally {
        await server.current.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);
  });
});
