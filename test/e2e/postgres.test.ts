import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash } from '../../src/log/hash.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/verify.js';
import { issueWarrant, uniqueNhi } from '../helpers/chain.js';
import { settledPgCheckpoint } from '../helpers/pg-log.js';
import {
  pgQuery,
  POSTGRES_UNAVAILABLE,
  postgresTool,
  startPostgres,
  type PostgresCluster,
} from '../helpers/postgres.js';
import { runCli, TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const b64 = (x: string) => Buffer.from(x, 'base64');

describe.skipIf(POSTGRES_UNAVAILABLE !== null)('a server on PostgreSQL', () => {
  let cluster: PostgresCluster;
  let url: string;
  let dir: string;
  let s: TestServer;
  const start = (databaseUrl = url) =>
    TestServer.start({
      dataDir: join(dir, 'data'),
      env: { COUNTERSIGN_DATABASE_URL: databaseUrl },
    });

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase('e2e');
    dir = mkdtempSync(join(tmpdir(), 'countersign-pg-e2e-'));
    s = await start();
  });
  afterAll(async () => {
    await s?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('when a requester walks one full chain through the CLI', () => {
    it('creates, approves, issues a warrant and redeems it once for a signed receipt', async () => {
      const subject = uniqueNhi('svc');
      const add = await s.cli(
        ['nhi', 'add', '--id', subject, '--kind', 'service_account', '--owner', 'payments'],
        'alice',
      );
      expect(add.code, add.stderr).toBe(0);
      const created = await s.cli(
        [
          'request',
          'create',
          '--subject',
          subject,
          '--action',
          'rotate',
          '--scope',
          'secrets/payments=rotate',
          '--env',
          'prod',
          '--target',
          'eu',
          '--executor',
          'deploy-eu',
          '--duration',
          '1h',
          '--reason',
          'quarterly',
        ],
        'alice',
      );
      expect(created.code, created.stderr).toBe(0);
      const id = created.stdout.trim();
      expect((await s.cli(['approve', id], 'bob')).stdout).toContain('pending (1 approval(s))');
      expect((await s.cli(['approve', id], 'carol')).stdout).toContain('warrant');
      const token = (await s.cli(['warrant', id], 'deploy-eu')).stdout.trim();
      const args = [
        'redeem',
        '--warrant',
        token,
        '--resource',
        'secrets/payments',
        '--permission',
        'rotate',
        '--env',
        'prod',
        '--target',
        'eu',
      ];
      const redeemed = await s.cli(args, 'deploy-eu');
      expect(redeemed.code, redeemed.stderr).toBe(0);
      const again = await s.cli(args, 'deploy-eu');
      expect(again.code).toBe(3);
      expect(again.stderr).toContain('WARRANT_EXHAUSTED');

      const jwks = createLocalJWKSet((await s.http('GET', '/.well-known/jwks.json')).body);
      const receipt = redeemed.stdout.trim().split('\n').at(-1) as string;
      const r = await jwtVerify(receipt, jwks, { typ: 'receipt+jwt' });
      expect(r.payload).toMatchObject({ request_id: id, use: 1, executor: 'deploy-eu' });
      const shown = await s.cli(['--json', 'request', 'show', id], 'audra');
      expect(JSON.parse(shown.stdout)).toMatchObject({ state: 'exhausted', approvals: 2 });
      const rows = await pgQuery<{ outcome: string; code: string | null }>(
        url,
        'select outcome, code from redemptions where warrant_id = (select id from warrants where request_id = $1) order by seq',
        [id],
      );
      expect(rows).toEqual([
        { outcome: 'allow', code: null },
        { outcome: 'deny', code: 'WARRANT_EXHAUSTED' },
      ]);
    });
  });

  describe('when executors race one warrant', () => {
    it('allows exactly maxUses and refuses the rest with WARRANT_EXHAUSTED', async () => {
      const { token, warrantId } = await issueWarrant(s, { maxUses: 3 });
      const body = {
        warrant: token,
        action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
      };
      const results = await Promise.all(
        Array.from({ length: 40 }, () =>
          s.http('POST', '/v1/redemptions', { as: 'deploy-eu', body }),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(3);
      expect(new Set(results.filter((r) => r.status !== 200).map((r) => r.body.code))).toEqual(
        new Set(['WARRANT_EXHAUSTED']),
      );
      const [w] = await pgQuery<{ uses: number }>(url, 'select uses from warrants where id = $1', [
        warrantId,
      ]);
      expect(w!.uses).toBe(3);
    });
  });

  describe('when the log has recorded the chain', () => {
    it('proves every entry included and every stored checkpoint consistent with the latest', async () => {
      const cp = await settledPgCheckpoint(s, url);
      const entries = (
        await s.http('GET', `/v1/log/entries?start=0&end=${cp.size}`, { as: 'audra' })
      ).body.entries;
      expect(entries).toHaveLength(cp.size);
      for (const e of entries) {
        const proof = (
          await s.http('GET', `/v1/log/proof/inclusion?index=${e.index}&size=${cp.size}`)
        ).body;
        const hash = leafHash(Buffer.from(e.leaf, 'utf8'));
        expect(verifyInclusion(hash, e.index, cp.size, proof.proof.map(b64), cp.rootHash)).toBe(
          true,
        );
      }
      const stored = await pgQuery<{ size: number; root: string }>(
        url,
        'select size::int as size, root from checkpoints order by size',
      );
      expect(stored.length).toBeGreaterThan(1);
      for (const old of stored) {
        if (old.size === cp.size) continue;
        const p = (await s.http('GET', `/v1/log/proof/consistency?from=${old.size}&to=${cp.size}`))
          .body;
        expect(
          verifyConsistency(
            old.size,
            cp.size,
            p.proof.map(b64),
            Buffer.from(old.root, 'hex'),
            cp.rootHash,
          ),
          `checkpoint ${old.size}`,
        ).toBe(true);
      }
    });

    it('passes `log verify` over HTTP with the auditor token', async () => {
      await settledPgCheckpoint(s, url);
      const out = await s.cli(['log', 'verify'], 'audra');
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toMatch(/log OK: \d+ entries/);
    });

    it('exports an evidence bundle that verifies offline with pinned keys', async () => {
      const w = await issueWarrant(s, { env: 'prod', maxUses: 2, targets: ['eu'] });
      const action = {
        resource: 'db/orders',
        permission: 'read',
        environment: 'prod',
        target: 'eu',
      };
      await s.http('POST', '/v1/redemptions', {
        as: 'deploy-eu',
        body: { warrant: w.token, action },
      });
      const logKey = (await s.http('GET', '/v1/log/verifier-key')).text.split('\n')[0]!;
      const jwksFile = join(dir, 'jwks.json');
      writeFileSync(jwksFile, (await s.http('GET', '/.well-known/jwks.json')).text);
      const bundle = join(dir, 'bundle.json');
      const out = await s.cli(['evidence', 'export', w.requestId, '-o', bundle], 'audra');
      expect(out.code, out.stderr).toBe(0);
      const verified = await runCli(
        ['evidence', 'verify', bundle, '--log-key', logKey, '--jwks', jwksFile],
        { COUNTERSIGN_ADDR: 'http://127.0.0.1:9' },
      );
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout).toContain('Verification: PASSED');
    });
  });

  describe('when `countersign migrate` runs against the database', () => {
    it('finds the schema up to date and exits 0, without echoing the URL', async () => {
      const out = await runCli(['migrate', '--database', url], {});
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('postgres schema is up to date');
      expect(out.stdout + out.stderr).not.toContain('127.0.0.1');
    });

    it('migrates a fresh database', async () => {
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

  describe('log witness across a backup and a bad restore', () => {
    it('pins, accepts growth, then exits 4 with ROLLBACK on the restored database', async () => {
      const state = join(dir, 'witness.json');
      await settledPgCheckpoint(s, url);
      expect((await s.cli(['log', 'witness', '--state', state])).stdout).toContain('pinned');
      // Backup: a pg_dump of the live database.
      const dump = join(dir, 'backup.dump');
      await run(postgresTool('pg_dump')!, ['--format=custom', '--file', dump, url]);
      await issueWarrant(s);
      await settledPgCheckpoint(s, url);
      const grown = await s.cli(['log', 'witness', '--state', state]);
      expect(grown.code, grown.stderr).toBe(0);
      expect(grown.stdout).toContain('consistent');

      // A bad restore: the old dump goes back into a new database the server now uses.
      const restored = await cluster.createDatabase('restored');
      await run(postgresTool('pg_restore')!, ['--no-owner', '--dbname', restored, dump]);
      const old = s;
      await old.stop();
      s = await start(restored);
      const rolled = await s.cli(['log', 'witness', '--state', state]);
      expect(rolled.code).toBe(4);
      expect(rolled.stderr).toContain('ROLLBACK');
      await s.stop();
      s = await start();
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
