import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/log/checkpoint.js';
import { RootAccumulator } from '../../src/log/accumulator.js';
import { leafHash } from '../../src/log/hash.js';
import { verifyConsistency, verifyInclusion } from '../../src/log/verify.js';
import { issueWarrant } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { settledLog } from '../helpers/log.js';
import { eventCount } from '../helpers/db.js';
import { runCli, type TestServer } from '../helpers/server.js';

const b64 = (x: string) => Buffer.from(x, 'base64');

interface Entry {
  readonly index: number;
  readonly leaf: string;
}

describeOnEveryStore('the event log', (store) => {
  let s: TestServer;
  /** Every checkpoint a witness polling after each step would have seen. */
  const seen: Checkpoint[] = [];
  const step = async (): Promise<void> => {
    seen.push(await settledLog(s));
  };

  beforeAll(async () => {
    s = await store.start();
    await step();
    const { token } = await issueWarrant(s, { maxUses: 2 });
    await step();
    const body = {
      warrant: token,
      action: { resource: 'db/orders', permission: 'read', environment: 'staging' },
    };
    await s.http('POST', '/v1/redemptions', { as: 'deploy-eu', body });
    await step();
    await s.http('POST', '/v1/redemptions', { as: 'deploy-us', body });
    await step();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const entries = async (size: number): Promise<Entry[]> =>
    (await s.http('GET', `/v1/log/entries?start=0&end=${size}`, { as: 'audra' })).body.entries;

  describe('when a chain has run', () => {
    it('holds one leaf per state change, each provably included in the signed checkpoint', async () => {
      const cp = seen.at(-1)!;
      const all = await entries(cp.size);
      expect(all.map((e) => JSON.parse(e.leaf).type)).toEqual([
        'key.created',
        'nhi.registered',
        'request.created',
        'decision.approved',
        'warrant.issued',
        'redemption.allowed',
        'redemption.denied',
      ]);
      for (const e of all) {
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

    it('serves consistency proofs from every earlier tree, each checkpoint seen on the way included', async () => {
      const cp = seen.at(-1)!;
      // The root of every prefix, recomputed from the leaves as an auditor would.
      const acc = new RootAccumulator();
      const roots = new Map<number, Buffer>();
      for (const e of await entries(cp.size)) {
        acc.push(leafHash(Buffer.from(e.leaf, 'utf8')));
        roots.set(acc.size, acc.root());
      }
      expect(roots.get(cp.size)).toEqual(cp.rootHash);
      for (const old of seen) expect(roots.get(old.size), `seen ${old.size}`).toEqual(old.rootHash);
      expect(new Set(seen.map((c) => c.size)).size).toBe(seen.length);
      for (let size = 1; size < cp.size; size++) {
        const p = (await s.http('GET', `/v1/log/proof/consistency?from=${size}&to=${cp.size}`))
          .body;
        expect(
          verifyConsistency(size, cp.size, p.proof.map(b64), roots.get(size)!, cp.rootHash),
          `from ${size}`,
        ).toBe(true);
      }
    });

    it('refuses out-of-range proofs with LOG_RANGE_INVALID', async () => {
      const cp = seen.at(-1)!;
      const r = await s.http('GET', `/v1/log/proof/inclusion?index=${cp.size}&size=${cp.size}`);
      expect(r.status).toBe(400);
      expect(r.body.code).toBe('LOG_RANGE_INVALID');
      expect(
        (await s.http('GET', `/v1/log/proof/consistency?from=0&to=${cp.size}`)).body.code,
      ).toBe('LOG_RANGE_INVALID');
      expect((await s.http('GET', '/v1/log/entries?start=0&end=1')).status).toBe(401);
    });

    it('verifies end to end with `log verify` over HTTP with the auditor token', async () => {
      const online = await s.cli(['log', 'verify'], 'audra');
      expect(online.code, online.stderr).toBe(0);
      expect(online.stdout).toContain(`log OK: ${seen.at(-1)!.size} entries`);
    });

    it('verifies offline straight from the database with `log verify --database`, and from a SQLite data dir with --data', async () => {
      const sources = [['--database', s.databaseUrl]];
      if (store.name === 'SQLite') sources.push(['--data', s.dataDir]);
      for (const source of sources) {
        const offline = await runCli(['--json', 'log', 'verify', ...source], {});
        expect(offline.code, offline.stderr).toBe(0);
        const report = JSON.parse(offline.stdout);
        expect(report).toMatchObject({ ok: true, entries: seen.at(-1)!.size });
        // Offline, every stored checkpoint is checked, not just the latest.
        expect(report.checkpoints).toBeGreaterThanOrEqual(seen.length);
      }
    });
  });

  describe('log verify with an expected origin', () => {
    it('exits 4 when the checkpoints name another origin, over HTTP as from the database', async () => {
      const online = await s.cli(['log', 'verify', '--origin', 'wrong.example/log'], 'audra');
      expect(online.code, online.stdout + online.stderr).toBe(4);
      expect(online.stdout + online.stderr).toContain('CHECKPOINT_SIGNATURE_INVALID');
      const offline = await runCli(
        ['log', 'verify', '--database', s.databaseUrl, '--origin', 'wrong.example/log'],
        {},
      );
      expect(offline.code, offline.stdout + offline.stderr).toBe(4);
    });
  });

  describe('log verify against a pinned key history', () => {
    it('exits 4 when the log is shorter than a key revocation the trust file knows of', async () => {
      const d = await store.deployment();
      let t = await d.start();
      const trust = join(t.dataDir, 'trust.json');
      try {
        await issueWarrant(t);
        await settledLog(t);
        const backup = await d.backup();
        const kid = (await t.http('GET', '/v1/keys', { as: 'admin' })).body.keys[0].kid as string;
        const rotated = await t.http('POST', '/v1/keys/rotation', {
          as: 'admin',
          body: { reason: 'scheduled' },
        });
        expect(rotated.status, rotated.text).toBe(201);
        const revoked = await t.http('POST', `/v1/keys/${kid}/revocation`, {
          as: 'admin',
          body: { reason: 'rotated out after a leak' },
        });
        expect(revoked.status, revoked.text).toBe(200);
        // Every event, the revocation included, in the log before the trust is exported.
        for (let i = 0; i < 200; i++) {
          const size = Number((await t.http('GET', '/v1/log/checkpoint')).text.split('\n')[1]);
          if (size === (await eventCount(t.databaseUrl))) break;
          await new Promise((r) => setTimeout(r, 60));
        }
        expect((await t.cli(['trust', 'export', '-o', trust])).code).toBe(0);
        expect((await t.cli(['log', 'verify', '--trust', trust], 'audra')).code).toBe(0);

        // A bad restore puts the log back to before the revocation the trust file pins.
        await t.stop();
        await d.restore(backup);
        t = await d.start();
        const cut = await t.cli(['log', 'verify', '--trust', trust], 'audra');
        expect(cut.code, cut.stdout + cut.stderr).toBe(4);
        expect(cut.stdout + cut.stderr).toContain('ENTRIES_MISSING');
        // Read from the database itself, the restore fails the same way.
        const offline = await runCli(
          ['log', 'verify', '--database', t.databaseUrl, '--trust', trust],
          {},
        );
        expect(offline.code, offline.stdout + offline.stderr).toBe(4);
        expect(offline.stdout + offline.stderr).toContain('ENTRIES_MISSING');
      } finally {
        await t.stop();
        await d.dispose();
      }
    });
  });

  describe('log witness', () => {
    it('accepts growth with a consistency proof and exits 4 on a rollback and then a fork after a bad restore', async () => {
      const d = await store.deployment();
      let t = await d.start();
      const state = join(t.dataDir, 'witness.json');
      try {
        await issueWarrant(t);
        await settledLog(t);
        expect((await t.cli(['log', 'witness', '--state', state])).stdout).toContain('pinned');
        const backup = await d.backup();
        await issueWarrant(t);
        await settledLog(t);
        const grown = await t.cli(['log', 'witness', '--state', state]);
        expect(grown.code, grown.stderr).toBe(0);
        expect(grown.stdout).toContain('consistent');

        // A bad restore puts the old database back: the witness sees the log shrink.
        await t.stop();
        await d.restore(backup);
        t = await d.start();
        const rolled = await t.cli(['log', 'witness', '--state', state]);
        expect(rolled.code).toBe(4);
        expect(rolled.stderr).toContain('ROLLBACK');

        // Writing past the old size on the restored log forks it: no consistency proof exists.
        for (let i = 0; i < 3; i++) await issueWarrant(t);
        await settledLog(t);
        const forked = await t.cli(['log', 'witness', '--state', state]);
        expect(forked.code).toBe(4);
        expect(forked.stderr).toContain('FORK');
      } finally {
        await t.stop();
        await d.dispose();
      }
    });
  });
});
