import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixture, type PgFixture } from '../connectors/pg-fixture.js';
import {
  brokeredWarrant,
  connectorSetup,
  mintedRoles,
  redeemBrokered,
  storeDatabase,
  storedGrants,
  tally,
  until,
} from '../helpers/broker-faults.js';
import { pgQuery, POSTGRES_UNAVAILABLE } from '../helpers/postgres.js';
import { TestServer } from '../helpers/server.js';

/** Enough grants that one node's sweep outlasts the other's interval, so both take part. */
const WARRANTS = 6;
const USES = 10;
const WINDOW = '15s';
const REVOCATION_INTERVAL_MS = 1000;
/** Revoking every grant one at a time, and one retry's backoff (2 s) after a failed attempt. */
const SWEEP_SLACK_MS = 15_000;

/**
 * Two countersign server processes over one PostgreSQL store, both with the connector
 * and both sweeping the revocation schedule every second: the lease in the store must
 * let exactly one of them revoke each grant, and record it once.
 */
describe.skipIf(POSTGRES_UNAVAILABLE !== null)('brokered grants on two nodes', () => {
  let fx: PgFixture;
  let dir: string;
  let storeUrl: string;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    fx = await startFixture();
    storeUrl = await storeDatabase(fx, 'countersign_nodes');
    dir = mkdtempSync(join(tmpdir(), 'countersign-broker-nodes-'));
    // The first node bootstraps the dev data dir (tokens, KEK); the second shares it.
    const node = () =>
      TestServer.start({ dataDir: dir, databaseUrl: storeUrl, ...connectorSetup(fx, '1s') });
    a = await node();
    b = await node();
  }, 60_000);

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await fx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('when grants minted on both nodes reach the end of their window', () => {
    it('revokes each grant exactly once, with one event and one revoke report', async () => {
      const warrants = [];
      for (let i = 0; i < WARRANTS; i++) {
        warrants.push(
          await brokeredWarrant(i % 2 === 0 ? a : b, { maxUses: USES, duration: WINDOW }),
        );
      }
      // One at a time, alternating nodes: concurrent grants are another test's subject.
      const handles: string[] = [];
      for (const w of warrants) {
        for (let i = 0; i < USES; i++) {
          const r = await redeemBrokered(i % 2 === 0 ? a : b, w.token);
          expect(r.status, r.text).toBe(200);
          handles.push((r.body as { credential: { PGUSER: string } }).credential.PGUSER);
        }
      }
      const n = WARRANTS * USES;
      expect(new Set(handles).size).toBe(n);
      expect([...(await mintedRoles(fx))].filter((r) => handles.includes(r))).toHaveLength(n);

      const grants = (await Promise.all(warrants.map((w) => storedGrants(a, w.warrantId)))).flat();
      expect(tally(grants, (g) => g.state)).toEqual({ live: n });
      const lastDue = Math.max(...grants.map((g) => Date.parse(g.due_at)));
      // Which node holds each grant's lease while it revokes: proof that both took part.
      const holders = new Map<string, Set<string>>();
      const watch = new pg.Client({ connectionString: storeUrl });
      await watch.connect();
      await until(
        async () => {
          const leases = await watch.query<{ id: string; lease_owner: string }>(
            'select id, lease_owner from grants where lease_owner is not null and id = any($1)',
            [grants.map((g) => g.id)],
          );
          for (const l of leases.rows) {
            holders.set(l.id, (holders.get(l.id) ?? new Set()).add(l.lease_owner));
          }
          return (await mintedRoles(fx)).size === 0;
        },
        'every role to be revoked',
        lastDue - Date.now() + 20_000,
        2,
      );
      await watch.end();
      const goneLateMs = Date.now() - lastDue;
      // Both nodes sweep a few more times: a second revocation would be recorded by now.
      await sleep(3 * REVOCATION_INTERVAL_MS);

      const ids = grants.map((g) => g.id);
      const revoked = await pgQuery<{ grant: string; n: number }>(
        storeUrl,
        `select leaf::jsonb -> 'data' ->> 'grant' as grant, count(*)::int as n from events
          where type = 'grant.revoked' and warrant_id = any($1) group by 1`,
        [warrants.map((w) => w.warrantId)],
      );
      const reports = await pgQuery<{ grant: string; n: number }>(
        storeUrl,
        `select receipt_id as grant, count(*)::int as n from fulfilments
          where phase = 'revoke' and warrant_id = any($1) group by 1`,
        [warrants.map((w) => w.warrantId)],
      );
      const once = Object.fromEntries(ids.map((id) => [id, 1]));
      expect(Object.fromEntries(revoked.map((r) => [r.grant, r.n]))).toEqual(once);
      expect(Object.fromEntries(reports.map((r) => [r.grant, r.n]))).toEqual(once);

      const after = (await Promise.all(warrants.map((w) => storedGrants(a, w.warrantId)))).flat();
      expect(tally(after, (g) => g.state)).toEqual({ revoked: n });
      const retried = after.filter((g) => g.attempts > 0);
      const lateMs = after.map((g) => Date.parse(g.revoked_at ?? '') - Date.parse(g.due_at));
      const pidOf = (owner: string) => Number(owner.split(':').at(-1));
      const byNode = tally(
        [...holders.values()].flatMap((o) => [...o]),
        (o) => (pidOf(o) === a.proc.pid ? 'a' : pidOf(o) === b.proc.pid ? 'b' : o),
      );
      console.log(
        `broker-two-nodes: leases seen while revoking ${JSON.stringify(byNode)} ` +
          `(${holders.size} of ${n} grants caught mid-revocation, ${[...holders.values()].filter((h) => h.size > 1).length} passed between nodes)`,
      );
      // Which node wins each lease is the scheduler's choice: usually both take part, and
      // one node doing it all is still exactly-once. Only the two nodes may hold leases.
      expect(Object.keys(byNode).filter((k) => k !== 'a' && k !== 'b')).toEqual([]);
      // A lease passes to the other node only after a failed attempt gave it up.
      const moved = new Set([...holders].filter(([, h]) => h.size > 1).map(([id]) => id));
      expect(after.filter((g) => moved.has(g.id) && g.attempts === 0)).toEqual([]);
      console.log(
        `broker-two-nodes: ${n} grants over ${WARRANTS} warrants minted on 2 nodes, window ${WINDOW}; ` +
          `${revoked.length} revoked, each by one grant.revoked event and one revoke report; ` +
          `last role gone ${goneLateMs} ms after the last window end; sweep start past due ` +
          `${Math.min(...lateMs)}..${Math.max(...lateMs)} ms; ${retried.length} revocations retried ` +
          `(${retried.map((g) => g.attempts).join(',') || 'none'})`,
      );
      for (const late of lateMs) expect(late).toBeGreaterThanOrEqual(0);
      expect(goneLateMs).toBeLessThanOrEqual(REVOCATION_INTERVAL_MS + SWEEP_SLACK_MS);
    }, 90_000);
  });
});
