import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { query } from '../helpers/db.js';
import { settledLog } from '../helpers/log.js';
import { runCli, TestServer } from '../helpers/server.js';
import { redemptionBody } from './support.js';

const ATTEMPTS = 500;

describe('two server processes on one SQLite file', () => {
  describe('when 500 redemptions of one single-use warrant are split across both', () => {
    it('allows exactly one and refuses 499 with WARRANT_EXHAUSTED', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'countersign-fault-race-'));
      const a = await TestServer.start({ dataDir: dir });
      let b: TestServer | undefined;
      try {
        // The second process reuses the data dir: the same KEK, signing key and dev tokens.
        b = await TestServer.start({ dataDir: dir });
        expect(b.tokens['deploy-eu']).toBe(a.tokens['deploy-eu']);
        for (const s of [a, b]) expect((await s.http('GET', '/healthz')).status).toBe(200);

        const { token, warrantId } = await issueWarrant(a, { maxUses: 1 });
        const servers = [a, b];
        const results = await Promise.all(
          Array.from({ length: ATTEMPTS }, (_, i) =>
            (servers[i % 2] as TestServer).http('POST', '/v1/redemptions', {
              as: 'deploy-eu',
              body: redemptionBody(token),
            }),
          ),
        );
        const allowed = results.filter((r) => r.status === 200);
        const exhausted = results.filter(
          (r) => r.status === 403 && r.body.code === 'WARRANT_EXHAUSTED',
        );
        const allowedBy = [0, 1].map((k) =>
          results.filter((r, i) => i % 2 === k && r.status === 200),
        );
        console.log(
          `race: ${ATTEMPTS} attempts across 2 processes ` +
            `(allows per process ${allowedBy.map((r) => r.length).join('/')}): ${allowed.length} allowed, ` +
            `${exhausted.length} WARRANT_EXHAUSTED, ` +
            `${ATTEMPTS - allowed.length - exhausted.length} other`,
        );
        expect(allowed).toHaveLength(1);
        expect(exhausted).toHaveLength(ATTEMPTS - 1);

        const [w] = query<{ uses: number }>(
          dir,
          'select uses from warrants where id = ?',
          warrantId,
        );
        expect(w?.uses).toBe(1);
        const rows = query<{ outcome: string; n: number }>(
          dir,
          'select outcome, count(*) as n from redemptions where warrant_id = ? group by outcome',
          warrantId,
        );
        expect(Object.fromEntries(rows.map((r) => [r.outcome, r.n]))).toEqual({
          allow: 1,
          deny: ATTEMPTS - 1,
        });
        const allowEvents = query<{ n: number }>(
          dir,
          "select count(*) as n from events where type = 'redemption.allowed' and warrant_id = ?",
          warrantId,
        );
        expect(allowEvents[0]?.n).toBe(1);
        // Both processes integrate the one log; it must still verify.
        await settledLog(a);
        const verify = await runCli(['log', 'verify', '--data', dir], {});
        expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      } finally {
        await b?.stop();
        await a.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  });
});
