import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leafHash } from '../../src/log/hash.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/verify.js';
import { issueWarrant } from '../helpers/chain.js';
import { query } from '../helpers/db.js';
import { settledCheckpoint } from '../helpers/log.js';
import { runCli, TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await TestServer.start();
  const { token } = await issueWarrant(s, { maxUses: 2 });
  const body = {
    warrant: token,
    action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
  };
  await s.http('POST', '/v1/redemptions', { as: 'deploy-eu', body });
  await s.http('POST', '/v1/redemptions', { as: 'deploy-us', body });
});
afterAll(async () => {
  await s.stop();
});

const b64 = (x: string) => Buffer.from(x, 'base64');

describe('the event log', () => {
  describe('when a chain has run', () => {
    it('holds one leaf per state change, each provably included in the signed checkpoint', async () => {
      const cp = await settledCheckpoint(s);
      const types = query<{ type: string }>(
        s.dataDir,
        'select type from events order by leaf_index',
      ).map((r) => r.type);
      expect(types).toEqual([
        'key.created',
        'nhi.registered',
        'request.created',
        'decision.approved',
        'warrant.issued',
        'redemption.allowed',
        'redemption.denied',
      ]);
      const entries = (
        await s.http('GET', `/v1/log/entries?start=0&end=${cp.size}`, { as: 'audra' })
      ).body.entries;
      for (const e of entries) {
        const proof = (
          await s.http('GET', `/v1/log/proof/inclusion?index=${e.index}&size=${cp.size}`)
        ).body;
        const hash = leafHash(Buffer.from(e.leaf, 'utf8'));
        expect(hash.toString('base64')).toBe(proof.leafHash);
        expect(verifyInclusion(hash, e.index, cp.size, proof.proof.map(b64), cp.rootHash)).toBe(
          true,
        );
      }
    });

    it('serves consistency proofs between every earlier size and the current one', async () => {
      const cp = await settledCheckpoint(s);
      const stored = query<{ size: number; root: string }>(
        s.dataDir,
        'select size, root from checkpoints order by size',
      );
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
        ).toBe(true);
      }
    });

    it('refuses out-of-range proofs with LOG_RANGE_INVALID', async () => {
      const cp = await settledCheckpoint(s);
      const r = await s.http('GET', `/v1/log/proof/inclusion?index=${cp.size}&size=${cp.size}`);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('LOG_RANGE_INVALID');
      expect(
        (await s.http('GET', `/v1/log/proof/consistency?from=0&to=${cp.size}`)).body.code,
      ).toBe('LOG_RANGE_INVALID');
      expect((await s.http('GET', '/v1/log/entries?start=0&end=1')).status).toBe(401);
    });

    it('verifies end to end with `log verify`, offline and over HTTP', async () => {
      await settledCheckpoint(s);
      const offline = await runCli(['log', 'verify', '--data', s.dataDir], {});
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stdout).toMatch(/log OK: \d+ entries/);
      const online = await s.cli(['log', 'verify'], 'audra');
      expect(online.code, online.stderr).toBe(0);
    });
  });
});

describe('log witness', () => {
  it('accepts growth with a consistency proof and exits 4 on a rollback after a bad restore', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-witness-'));
    const backup = join(dir, 'backup');
    const state = join(dir, 'witness.json');
    let t = await TestServer.start({ dataDir: join(dir, 'data') });
    try {
      await issueWarrant(t);
      await settledCheckpoint(t);
      expect((await t.cli(['log', 'witness', '--state', state])).stdout).toContain('pinned');
      await t.stop();
      cpSync(join(dir, 'data'), backup, { recursive: true });
      t = await TestServer.start({ dataDir: join(dir, 'data') });
      await issueWarrant(t);
      await settledCheckpoint(t);
      const grown = await t.cli(['log', 'witness', '--state', state]);
      expect(grown.code, grown.stderr).toBe(0);
      expect(grown.stdout).toContain('consistent');
      await t.stop();

      // A bad restore puts the old database back: the witness sees the log shrink.
      rmSync(join(dir, 'data'), { recursive: true });
      cpSync(backup, join(dir, 'data'), { recursive: true });
      t = await TestServer.start({ dataDir: join(dir, 'data') });
      const rolled = await t.cli(['log', 'witness', '--state', state]);
      expect(rolled.code).toBe(4);
      expect(rolled.stderr).toContain('ROLLBACK');

      // Writing past the old size on the restored log forks it: no consistency proof exists.
      for (let i = 0; i < 3; i++) await issueWarrant(t);
      await settledCheckpoint(t);
      const forked = await t.cli(['log', 'witness', '--state', state]);
      expect(forked.code).toBe(4);
      expect(forked.stderr).toContain('FORK');
    } finally {
      await t.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
