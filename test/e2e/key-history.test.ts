import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { editBehindServer } from '../helpers/db.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { runCli, type TestServer } from '../helpers/server.js';

const offline = { COUNTERSIGN_ADDR: 'http://127.0.0.1:9' };

/**
 * An auditor pins the whole key history once and verifies what was signed in every key
 * epoch: rotations, a revocation, and clocks that lie change no verdict.
 */
describeOnEveryStore('verification across key rotations', (store) => {
  let s: TestServer;
  let dir: string;
  const bundles: string[] = [];
  let trust: string;
  let verifierKeys: string[];

  /** One request per key epoch: issued, redeemed, exported while that key signs. */
  async function epochBundle(n: number): Promise<void> {
    const w = await issueWarrant(s, { maxUses: 1 });
    const action = { resource: 'db/orders', permission: 'read', environment: 'staging' };
    const r = await s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: w.token, action },
    });
    expect(r.status, r.text).toBe(200);
    const file = join(dir, `bundle-${n}.json`);
    const out = await s.cli(['evidence', 'export', w.requestId, '-o', file], 'audra');
    expect(out.code, out.stderr).toBe(0);
    bundles.push(file);
  }

  const exportTrust = async (name: string): Promise<string> => {
    const file = join(dir, name);
    const out = await s.cli(['trust', 'export', '-o', file]);
    expect(out.code, out.stderr).toBe(0);
    return file;
  };

  beforeAll(async () => {
    s = await store.start();
    dir = mkdtempSync(join(tmpdir(), 'countersign-keys-'));
    await epochBundle(1);
    expect((await s.cli(['keys', 'rotate', '--reason', 'first'], 'admin')).code).toBe(0);
    await epochBundle(2);
    expect((await s.cli(['keys', 'rotate', '--reason', 'second'], 'admin')).code).toBe(0);
    await epochBundle(3);
    trust = await exportTrust('trust.json');
    verifierKeys = (
      JSON.parse(readFileSync(trust, 'utf8')) as { logKeys: { verifierKey: string }[] }
    ).logKeys.map((k) => k.verifierKey);
  });
  afterAll(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when the trust file pins the history of three keys', () => {
    it('lists every key with its state at GET /v1/log/verifier-keys', async () => {
      const r = await s.http('GET', '/v1/log/verifier-keys');
      expect(r.body.keys.map((k: { state: string }) => k.state)).toEqual([
        'retired',
        'retired',
        'active',
      ]);
      expect(verifierKeys).toHaveLength(3);
    });

    it('verifies the bundle of every epoch offline, exit 0', async () => {
      for (const bundle of bundles) {
        const out = await runCli(['evidence', 'verify', bundle, '--trust', trust], offline);
        expect(out.code, out.stdout + out.stderr).toBe(0);
        expect(out.stdout).toContain('Verification: PASSED; trust pinned');
      }
    });

    it('verifies the whole log and its tables against it', async () => {
      const out = await runCli(
        ['log', 'verify', '--database', s.databaseUrl, '--trust', trust],
        {},
      );
      expect(out.code, out.stdout + out.stderr).toBe(0);
      expect(out.stdout).toContain('verified against pinned keys');
      expect(out.stdout).toContain('state OK');
    });

    it('verifies the log over HTTP, every stored checkpoint', async () => {
      const out = await s.cli(['--json', 'log', 'verify', '--trust', trust], 'audra');
      expect(out.code, out.stdout + out.stderr).toBe(0);
      const report = JSON.parse(out.stdout);
      expect(report.checkpoints).toBeGreaterThan(1);
      expect(report.unchecked).toEqual([
        'the tables behind the log (the state audit needs --data or --database)',
      ]);
    });

    it('accepts the three keys given as repeated --log-key, and refuses the first alone', async () => {
      const all = verifierKeys.flatMap((k) => ['--log-key', k]);
      const ok = await runCli(['log', 'verify', '--database', s.databaseUrl, ...all], {});
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      const first = ['--log-key', verifierKeys[0]!];
      const one = await runCli(['log', 'verify', '--database', s.databaseUrl, ...first], {});
      expect(one.code).toBe(4);
      expect(one.stdout).toContain('CHECKPOINT_SIGNATURE_INVALID');
    });
  });

  describe('when the middle key is revoked', () => {
    it('still verifies the bundle signed before its revocation, against the new trust file', async () => {
      const kid = (
        (await s.http('GET', '/v1/log/verifier-keys')).body.keys as { kid: string }[]
      )[1]!.kid;
      const revoked = await s.cli(['keys', 'revoke', '--reason', 'leaked', '--', kid], 'admin');
      expect(revoked.code, revoked.stdout + revoked.stderr).toBe(0);
      const listed = (await s.http('GET', '/v1/log/verifier-keys')).body.keys[1];
      expect(listed).toMatchObject({ kid, state: 'revoked' });
      expect(listed.revokedAtIndex).toBeGreaterThan(0);
      trust = await exportTrust('trust-after-revocation.json');
      const out = await runCli(['evidence', 'verify', bundles[1]!, '--trust', trust], offline);
      expect(out.code, out.stdout + out.stderr).toBe(0);
    });
  });

  describe('when the clock steps backwards and the unsigned times are edited', () => {
    it('changes no verdict: revocation is decided by log position', async () => {
      await s.setClock(new Date(Date.now() - 3 * 86_400_000));
      await epochBundle(4);
      await editBehindServer(
        s.databaseUrl,
        `update checkpoints set at = '1970-01-01T00:00:00.000Z'`,
      );
      await editBehindServer(
        s.databaseUrl,
        `update signing_keys set revoked_at = '2999-01-01T00:00:00.000Z' where state = 'revoked'`,
      );
      const log = await runCli(
        ['log', 'verify', '--database', s.databaseUrl, '--trust', trust],
        {},
      );
      expect(log.code, log.stdout + log.stderr).toBe(0);
      for (const bundle of bundles) {
        const out = await runCli(['evidence', 'verify', bundle, '--trust', trust], offline);
        expect(out.code, out.stdout + out.stderr).toBe(0);
      }
    });
  });
});
