import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type PgFixture } from '../connectors/pg-fixture.js';
import {
  BURST_POLICY,
  brokeredWarrant,
  connectorSetup,
  mintedRoles,
  redeemBrokered,
  storedGrants,
  tally,
  type BrokeredWarrant,
  type StoredGrant,
} from '../helpers/broker-faults.js';
import { query } from '../helpers/db.js';
import { POSTGRES_UNAVAILABLE } from '../helpers/postgres.js';
import type { HttpResult } from '../helpers/server.js';
import { TestServer } from '../helpers/server.js';

/**
 * Concurrent brokered redemptions of one warrant, without a crash: grants race each
 * other in PostgreSQL (two GRANTs on one table), and redemptions race for the last use.
 */
describe.skipIf(POSTGRES_UNAVAILABLE !== null)('concurrent brokered redemptions', () => {
  let fx: PgFixture;
  let dir: string;
  let s: TestServer;

  beforeAll(async () => {
    fx = await startFixture();
    dir = mkdtempSync(join(tmpdir(), 'countersign-fault-broker-races-'));
    writeFileSync(join(dir, 'policy.yaml'), BURST_POLICY, { mode: 0o600 });
    s = await TestServer.start({ dataDir: dir, ...connectorSetup(fx, '1s') });
  }, 60_000);

  afterAll(async () => {
    await s?.stop();
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** `n` redemptions of a fresh warrant with `maxUses`, all at once. */
  async function burst(
    n: number,
    maxUses: number,
  ): Promise<{ w: BrokeredWarrant; answers: HttpResult[] }> {
    const w = await brokeredWarrant(s, { maxUses, duration: '10m' });
    const answers = await Promise.all(Array.from({ length: n }, () => redeemBrokered(s, w.token)));
    return { w, answers };
  }

  const outcome = (r: HttpResult) =>
    r.status === 200 ? 'allowed' : `${r.status} ${(r.body as { code: string }).code}`;

  describe('when 200 brokered redemptions of a 200-use warrant arrive at once', () => {
    let answers: HttpResult[] = [];
    let grants: StoredGrant[] = [];
    let uses = 0;

    beforeAll(async () => {
      const b = await burst(200, 200);
      answers = b.answers;
      grants = await storedGrants(s, b.w.warrantId);
      const failures = answers.filter((r) => r.status !== 200);
      uses =
        query<{ uses: number }>(dir, 'select uses from warrants where id = ?', b.w.warrantId)[0]
          ?.uses ?? -1;
      console.log(
        `broker-races: 200 at once → ${JSON.stringify(tally(answers, outcome))}; ` +
          `grant rows ${JSON.stringify(tally(grants, (g) => g.state))}, uses ${uses}; ` +
          `failures: ${[...new Set(failures.map((r) => (r.body as { detail: string }).detail))].join(' | ')}`,
      );
    }, 60_000);

    it('answers each with a credential or CONNECTOR_FAILED, and mints a role only for the credentials', async () => {
      const neither = answers.filter(
        (r) => !['allowed', '502 CONNECTOR_FAILED'].includes(outcome(r)),
      );
      expect(neither.map((r) => r.text)).toEqual([]);
      const live = grants.filter((g) => g.state === 'live');
      expect(live).toHaveLength(answers.filter((r) => r.status === 200).length);
      expect(uses).toBe(live.length);
      // A failed grant stays on the schedule, due at once, in case it was made after all.
      const failed = grants.filter((g) => g.state !== 'live');
      expect(
        failed.filter((g) => g.state === 'failed' || Date.parse(g.due_at) > Date.now()),
      ).toEqual([]);
      const roles = await mintedRoles(fx);
      expect(
        grants
          .filter((g) => roles.has(g.handle))
          .map((g) => g.id)
          .sort(),
      ).toEqual(live.map((g) => g.id).sort());
    });

    // Two GRANTs rewriting one ACL at once fail one with "tuple concurrently updated"
    // unless the connector serialises them: none may be refused for it.
    it('allows all 200', () => {
      expect(tally(answers, outcome)).toEqual({ allowed: 200 });
    });
  });

  describe('when a single-use warrant is redeemed 20 times at once', () => {
    let answers: HttpResult[] = [];
    let grants: StoredGrant[] = [];

    beforeAll(async () => {
      const b = await burst(20, 1);
      answers = b.answers;
      grants = await storedGrants(s, b.w.warrantId);
      console.log(
        `broker-races: single-use warrant, 20 at once → ${JSON.stringify(tally(answers, outcome))}; ` +
          `grant rows ${JSON.stringify(tally(grants, (g) => g.state))}`,
      );
    }, 60_000);

    // One node's redemptions of one brokered warrant take turns from mint to commit, so the
    // 19 that come after the only use was spent are refused before the connector is asked.
    it('allows one, and asks the connector for that one only', async () => {
      expect(tally(answers, outcome)).toEqual({ allowed: 1, '403 WARRANT_EXHAUSTED': 19 });
      expect(grants.map((g) => g.state)).toEqual(['live']);
      const roles = await mintedRoles(fx);
      expect(roles.has(grants[0]?.handle ?? '-')).toBe(true);
    });
  });
});
