import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../../src/log/checkpoint.js';
import type { NoteVerifier } from '../../src/log/note.js';
import { verifyConsistency } from '../../src/log/verify.js';
import { federationConfig, startIssuers, type Issuers } from '../helpers/federation.js';
import { AUDIENCE } from '../helpers/federated.js';
import { issueWarrant, uniqueNhi } from '../helpers/chain.js';
import { fp, fulfil, receiptFor } from '../helpers/fulfilment.js';
import { settledPgCheckpoint, verifierOf } from '../helpers/log.js';
import {
  pgQuery,
  POSTGRES_UNAVAILABLE,
  startPostgres,
  type PostgresCluster,
} from '../helpers/postgres.js';
import { TestServer } from '../helpers/server.js';
import { until } from '../helpers/broker.js';

const b64 = (x: string) => Buffer.from(x, 'base64');
const LOAD_MS = Number(process.env.COUNTERSIGN_MULTINODE_LOAD_MS ?? 30_000);

/**
 * Two countersign server processes on one PostgreSQL database, sharing one data dir for
 * the dev tokens, the key-encryption key and the configuration (which trusts loopback
 * OIDC issuers), as nodes behind a load balancer share theirs.
 */
describe.skipIf(POSTGRES_UNAVAILABLE !== null)('several nodes on one PostgreSQL', () => {
  let cluster: PostgresCluster;
  let url: string;
  let dir: string;
  let a: TestServer;
  let b: TestServer;
  let issuers: Issuers;
  const startNode = () =>
    TestServer.start({
      dataDir: join(dir, 'data'),
      env: { COUNTERSIGN_DATABASE_URL: url },
      config: { oidc: federationConfig(issuers) },
    });

  beforeAll(async () => {
    issuers = await startIssuers();
    cluster = await startPostgres();
    url = await cluster.createDatabase('multinode');
    dir = mkdtempSync(join(tmpdir(), 'countersign-multinode-'));
    mkdirSync(join(dir, 'data')); // the config file goes in before the first node starts
    // The first node bootstraps the dev data dir; the second starts on it as it is.
    a = await startNode();
    b = await startNode();
  });
  afterAll(async () => {
    await a?.stop();
    if (b && b.proc.exitCode === null && b.proc.signalCode === null) await b.stop();
    await cluster?.stop();
    await issuers?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const redeemBody = (token: string) => ({
    warrant: token,
    action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
  });

  async function race(maxUses: number, attempts: number) {
    const { token, warrantId } = await issueWarrant(a, { maxUses });
    const body = redeemBody(token);
    const results = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        (i % 2 === 0 ? a : b).http('POST', '/v1/redemptions', { as: 'deploy-eu', body }),
      ),
    );
    const allowed = results.filter((r) => r.status === 200).length;
    const exhausted = results.filter(
      (r) => r.status === 403 && r.body.code === 'WARRANT_EXHAUSTED',
    ).length;
    const other = results.length - allowed - exhausted;
    const [w] = await pgQuery<{ uses: number }>(url, 'select uses from warrants where id = $1', [
      warrantId,
    ]);
    const [rows] = await pgQuery<{ allow: number; deny: number }>(
      url,
      `select count(*) filter (where outcome = 'allow')::int as allow,
              count(*) filter (where outcome = 'deny')::int as deny
         from redemptions where warrant_id = $1`,
      [warrantId],
    );
    process.stdout.write(
      `multi-node race: maxUses ${maxUses}, ${attempts} attempts over 2 nodes → ` +
        `${allowed} allowed, ${exhausted} WARRANT_EXHAUSTED, ${other} other\n`,
    );
    return { allowed, exhausted, other, uses: w!.uses, rows: rows! };
  }

  const RACES = [
    ['500 redemptions of one single-use warrant', 1, 500, 'one and refuses 499'],
    ['1,000 redemptions of a warrant with maxUses 10', 10, 1000, 'ten and refuses 990'],
  ] as const;
  for (const [what, maxUses, attempts, outcome] of RACES) {
    describe(`when ${what} race across both nodes`, () => {
      it(`allows exactly ${outcome} with WARRANT_EXHAUSTED`, async () => {
        const refused = attempts - maxUses;
        expect(await race(maxUses, attempts)).toEqual({
          allowed: maxUses,
          exhausted: refused,
          other: 0,
          uses: maxUses,
          rows: { allow: maxUses, deny: refused },
        });
      });
    });
  }

  describe('when one workload token is presented at both nodes at once', () => {
    it('lets exactly one presentation redeem and refuses the rest with TOKEN_REPLAYED', async () => {
      const { token: warrant, warrantId } = await issueWarrant(a, {
        maxUses: 10,
        executorBinding: { issuer: issuers.github.issuer, claims: { repository: 'acme/deploy' } },
      });
      const job = await issuers.github.mintGithubActions(new Date(), AUDIENCE);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).http('POST', '/v1/redemptions', {
            bearer: job,
            body: redeemBody(warrant),
          }),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      const refused = results.filter((r) => r.status !== 200);
      expect(refused.map((r) => [r.status, r.body.code])).toEqual(
        Array.from({ length: 19 }, () => [401, 'TOKEN_REPLAYED']),
      );
      const [w] = await pgQuery<{ uses: number }>(url, 'select uses from warrants where id = $1', [
        warrantId,
      ]);
      expect(w!.uses).toBe(1);

      // Spent at one node, it stays spent at the other, even once the burst is over.
      const later = await (results.findIndex((r) => r.status === 200) % 2 === 0 ? b : a).http(
        'POST',
        '/v1/redemptions',
        { bearer: job, body: redeemBody(warrant) },
      );
      expect([later.status, later.body.code]).toEqual([401, 'TOKEN_REPLAYED']);
    });
  });

  describe('when identical fulfilment reports race across both nodes', () => {
    it('records exactly one, with one log event, and refuses the rest with FULFILMENT_DUPLICATE', async () => {
      const { token, requestId } = await issueWarrant(a, { targets: ['eu'] });
      const receipt = await receiptFor(a, token, {
        resource: 'db/orders',
        permission: 'read',
        environment: 'staging',
        target: 'eu',
      });
      const report = { receipt, target: 'eu', outcome: 'success', fingerprint: fp('v1') };
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => fulfil(i % 2 === 0 ? a : b, report)),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.status !== 201).map((r) => [r.status, r.body.code])).toEqual(
        Array.from({ length: 39 }, () => [409, 'FULFILMENT_DUPLICATE']),
      );
      const [stored] = await pgQuery<{ rows: number; events: number }>(
        url,
        `select (select count(*)::int from fulfilments where request_id = $1) as rows,
                (select count(*)::int from events
                  where request_id = $1 and type = 'fulfilment.recorded') as events`,
        [requestId],
      );
      expect(stored).toEqual({ rows: 1, events: 1 });
    });
  });

  describe('when both nodes write events at once for a while', () => {
    it('keeps one log: every checkpoint either node signed is consistent with every later one', async () => {
      const verifier: NoteVerifier = await verifierOf(a);
      // Both nodes serve one log key: they sign with the same key ring.
      expect((await b.http('GET', '/v1/log/verifier-key')).text).toBe(
        (await a.http('GET', '/v1/log/verifier-key')).text,
      );
      const seen = new Map<number, Checkpoint>();
      const until = Date.now() + LOAD_MS;
      let written = 0;
      const writer = async (node: TestServer) => {
        while (Date.now() < until) {
          const r = await node.http('POST', '/v1/nhis', {
            as: 'admin',
            body: { id: uniqueNhi('mn'), kind: 'service_account', owner: 'team' },
          });
          expect(r.status, r.text).toBe(201);
          written += 1;
        }
      };
      const watcher = async () => {
        while (Date.now() < until) {
          for (const node of [a, b]) {
            const res = await node.http('GET', '/v1/log/checkpoint');
            if (res.status === 200) {
              const { checkpoint } = openCheckpoint(res.text, [verifier]);
              const prior = seen.get(checkpoint.size);
              // One size, one root: no node ever signed a different tree of the same size.
              if (prior) expect(prior.rootHash.equals(checkpoint.rootHash)).toBe(true);
              seen.set(checkpoint.size, checkpoint);
            }
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await Promise.all([...[a, b, a, b, a, b, a, b].map(writer), watcher()]);
      const final = await settledPgCheckpoint(a, url);
      expect((await settledPgCheckpoint(b, url)).rootHash.equals(final.rootHash)).toBe(true);

      // Every checkpoint stored (signed by either node), and every one served while the
      // nodes were busy, is a prefix of the final tree; hence of every later one too.
      const stored = await pgQuery<{ size: number; root: string; note: string }>(
        url,
        'select size::int as size, root, note from checkpoints order by size',
      );
      const all = new Map<number, Buffer>(stored.map((c) => [c.size, Buffer.from(c.root, 'hex')]));
      for (const c of stored) {
        expect(openCheckpoint(c.note, [verifier]).checkpoint.rootHash.toString('hex')).toBe(c.root);
      }
      for (const [size, cp] of seen) expect(all.get(size)?.equals(cp.rootHash)).toBe(true);
      let i = 0;
      for (const [size, root] of all) {
        if (size === final.size) continue;
        const node = i++ % 2 === 0 ? a : b;
        const p = (
          await node.http('GET', `/v1/log/proof/consistency?from=${size}&to=${final.size}`)
        ).body;
        expect(
          verifyConsistency(size, final.size, p.proof.map(b64), root, final.rootHash),
          `checkpoint ${size} → ${final.size}`,
        ).toBe(true);
      }
      // Leaf indices are dense: one total order over both nodes' events. The reconciler
      // (each node's, every minute) may have appended and integrated events since the log
      // settled, so the integrated events are counted, not assumed to be `final.size`.
      const [idx] = await pgQuery<{ n: number; max: number; distinct: number }>(
        url,
        `select count(*)::int as n, max(leaf_index)::int as max,
                count(distinct leaf_index)::int as distinct
           from events where leaf_index is not null`,
      );
      expect(idx!.n).toBeGreaterThanOrEqual(final.size);
      expect(idx).toEqual({ n: idx!.n, max: idx!.n - 1, distinct: idx!.n });
      process.stdout.write(
        `multi-node log: ${written} writes in ${LOAD_MS} ms over 2 nodes, ${stored.length} checkpoints, ` +
          `${seen.size} observed live, final size ${final.size}\n`,
      );

      for (const node of [a, b]) {
        const out = await node.cli(['log', 'verify'], 'audra');
        expect(out.code, out.stderr).toBe(0);
        expect(out.stdout).toMatch(/log OK/);
      }
    });
  });

  describe('when one node revokes the key a warrant was signed with', () => {
    it('has the other refuse it at once, and drop the key from its key set', async () => {
      const { token, warrantId } = await issueWarrant(a, { maxUses: 5 });
      const body = redeemBody(token);
      // The other node has verified the warrant, and holds the key as trusted.
      expect((await b.http('POST', '/v1/redemptions', { as: 'deploy-eu', body })).status).toBe(200);
      const { kid } = JSON.parse(b64(token.split('.')[0]!).toString()) as { kid: string };
      const revoked = await a.http('POST', `/v1/keys/${kid}/revocation`, {
        as: 'admin',
        body: { reason: 'the signing key leaked' },
      });
      expect(revoked.status, revoked.text).toBe(200);
      for (const node of [b, a]) {
        const r = await node.http('POST', '/v1/redemptions', { as: 'deploy-eu', body });
        expect([r.status, r.body.code]).toEqual([403, 'KEY_REVOKED']);
      }
      const [w] = await pgQuery<{ uses: number }>(url, 'select uses from warrants where id = $1', [
        warrantId,
      ]);
      expect(w?.uses).toBe(1);
      // Well before its periodic refresh (15 s), the refusal had it read its keys again.
      const kids = async () =>
        ((await b.http('GET', '/.well-known/jwks.json')).body.keys as { kid: string }[]).map(
          (k) => k.kid,
        );
      await until(async () => !(await kids()).includes(kid), 'the revoked key to leave', 5_000);
      expect(await kids()).not.toContain(kid);
    });

    it('has the other sign a warrant it issues next with the new key, not the revoked one', async () => {
      const kidOf = (token: string) =>
        (JSON.parse(b64(token.split('.')[0]!).toString()) as { kid: string }).kid;
      const active = kidOf((await issueWarrant(b)).token);
      const revoked = await a.http('POST', `/v1/keys/${active}/revocation`, {
        as: 'admin',
        body: { reason: 'the signing key leaked' },
      });
      expect(revoked.status, revoked.text).toBe(200);
      const next = await issueWarrant(b);
      expect(kidOf(next.token)).not.toBe(active);
      const r = await a.http('POST', '/v1/redemptions', {
        as: 'deploy-eu',
        body: redeemBody(next.token),
      });
      expect(r.status, r.text).toBe(200);
    });
  });

  describe('when one node is killed with SIGKILL mid-load', () => {
    it('keeps serving on the other and loses nothing acknowledged', async () => {
      const acknowledged: string[] = [];
      let afterKill = 0;
      let killed = false;
      const until = Date.now() + Math.min(LOAD_MS, 8000);
      const writer = async (node: TestServer) => {
        while (Date.now() < until) {
          const id = uniqueNhi('fault');
          try {
            const r = await node.http('POST', '/v1/nhis', {
              as: 'admin',
              body: { id, kind: 'service_account', owner: 'team' },
            });
            if (r.status === 201) {
              acknowledged.push(id);
              if (killed && node === a) afterKill += 1;
            } else if (node === a) {
              throw new Error(`surviving node answered ${r.status}: ${r.text}`);
            }
          } catch (e) {
            if (node === a) throw e;
            return; // the killed node stops answering: nothing it did not acknowledge counts
          }
        }
      };
      const killer = async () => {
        await new Promise((r) => setTimeout(r, 1500));
        b.proc.kill('SIGKILL');
        killed = true;
      };
      await Promise.all([writer(a), writer(a), writer(b), writer(b), writer(b), killer()]);
      expect(afterKill).toBeGreaterThan(0);
      expect((await a.http('GET', '/readyz')).status).toBe(200);

      // Every acknowledged write is in the database with its event, and the surviving
      // node integrates all of them (including the dead node's queued events) into the log.
      const cp = await settledPgCheckpoint(a, url);
      const rows = await pgQuery<{ id: string; leaf_index: number | null }>(
        url,
        `select n.id, e.leaf_index::int as leaf_index from nhis n
           join events e on e.nhi_id = n.id and e.type = 'nhi.registered'
          where n.id = any($1)`,
        [acknowledged],
      );
      expect(rows).toHaveLength(acknowledged.length);
      expect(rows.every((r) => r.leaf_index !== null && r.leaf_index < cp.size)).toBe(true);
      const out = await a.cli(['log', 'verify'], 'audra');
      expect(out.code, out.stderr).toBe(0);
      process.stdout.write(
        `multi-node fault: ${acknowledged.length} acknowledged writes, ${afterKill} served by the survivor after SIGKILL, none lost\n`,
      );
    });
  });
});
