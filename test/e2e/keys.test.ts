import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_POLICY } from '../../src/server/dev.js';
import { issueWarrant } from '../helpers/chain.js';
import { query } from '../helpers/db.js';
import { runCli, TestServer } from '../helpers/server.js';

let s: TestServer;
let dir: string;
beforeAll(async () => {
  s = await TestServer.start();
  dir = mkdtempSync(join(tmpdir(), 'countersign-keys-'));
});
afterAll(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ACTION = { resource: 'db/orders', permission: 'read', environment: 'staging' };
const redeem = (warrant: string) =>
  s.http('POST', '/v1/redemptions', { as: 'deploy-eu', body: { warrant, action: ACTION } });
const kidOf = (jws: string) => decodeProtectedHeader(jws).kid as string;
const jwksKids = async () =>
  ((await s.http('GET', '/.well-known/jwks.json')).body.keys as Array<{ kid: string }>).map(
    (k) => k.kid,
  );
const keyStates = async () =>
  Object.fromEntries(
    (
      (await s.http('GET', '/v1/keys', { as: 'audra' })).body.keys as Array<{
        kid: string;
        state: string;
      }>
    ).map((k) => [k.kid, k.state]),
  );

describe('signing keys', () => {
  let before: { requestId: string; token: string };
  let oldKid: string;
  let newKid: string;
  let bundle: string;
  let oldLogKey: string;

  beforeAll(async () => {
    before = await issueWarrant(s, { env: 'staging', maxUses: 3 });
    oldKid = kidOf(before.token);
    expect((await redeem(before.token)).status).toBe(200);
    bundle = join(dir, 'before.json');
    const out = await s.cli(['evidence', 'export', before.requestId, '-o', bundle], 'audra');
    expect(out.code, out.stderr).toBe(0);
    oldLogKey = (await s.http('GET', '/v1/log/verifier-key')).text.split('\n')[0]!;
  });

  describe('when an admin rotates', () => {
    beforeAll(async () => {
      const out = await s.cli(['keys', 'rotate', '--reason', 'scheduled'], 'admin');
      expect(out.code, out.stderr).toBe(0);
      newKid = /active: (\S+)/.exec(out.stdout)![1]!;
      expect(out.stdout).toContain(`retired: ${oldKid}`);
    });

    it('is refused to anyone else', async () => {
      const out = await s.cli(['keys', 'rotate'], 'audra');
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('FORBIDDEN');
    });

    it('publishes the new key and keeps the old one, now retired', async () => {
      expect(newKid).not.toBe(oldKid);
      expect(await jwksKids()).toEqual(expect.arrayContaining([oldKid, newKid]));
      expect(await keyStates()).toMatchObject({ [oldKid]: 'retired', [newKid]: 'active' });
      const list = await s.cli(['keys', 'list'], 'admin');
      expect(list.stdout).toMatch(new RegExp(`${newKid}\\s+active`));
    });

    it('records the rotation in the log', () => {
      const rows = query<{ leaf: string; actor: string }>(
        s.dataDir,
        "select leaf, actor from events where type = 'key.rotated'",
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.actor).toBe('admin');
      expect(JSON.parse(rows[0]!.leaf).data).toMatchObject({
        kid: newKid,
        retired: [oldKid],
        reason: 'scheduled',
      });
    });

    it('still redeems a warrant issued before it, with a receipt signed by the new key', async () => {
      const r = await redeem(before.token);
      expect(r.status, r.text).toBe(200);
      expect(kidOf(r.body.receipt)).toBe(newKid);
    });

    it('signs new warrants with the new key', async () => {
      const w = await issueWarrant(s, { env: 'staging' });
      expect(kidOf(w.token)).toBe(newKid);
      expect((await redeem(w.token)).status).toBe(200);
    });

    it('still verifies evidence exported before it, offline', async () => {
      const jwks = join(dir, 'jwks-after.json');
      writeFileSync(jwks, (await s.http('GET', '/.well-known/jwks.json')).text);
      const offline = { COUNTERSIGN_ADDR: 'http://127.0.0.1:9' };
      for (const args of [['--trust-embedded'], ['--log-key', oldLogKey, '--jwks', jwks]]) {
        const out = await runCli(['evidence', 'verify', bundle, ...args], offline);
        expect(out.code, out.stdout + out.stderr).toBe(0);
        expect(out.stdout).toContain('Verification: PASSED');
      }
      const unpinned = await runCli(['evidence', 'verify', bundle], offline);
      expect(unpinned.code, unpinned.stderr).toBe(5);
      expect(unpinned.stderr).toContain('EVIDENCE_UNPINNED');
    });

    it('still passes log verify, over HTTP and offline', async () => {
      await s.http('GET', `/v1/requests/${before.requestId}/evidence`, { as: 'audra' });
      const online = await s.cli(['log', 'verify'], 'audra');
      expect(online.code, online.stdout + online.stderr).toBe(0);
      const offline = await runCli(['log', 'verify', '--data', s.dataDir], {});
      expect(offline.code, offline.stdout + offline.stderr).toBe(0);
    });
  });

  describe('when an admin revokes a compromised key', () => {
    it('refuses warrants signed by a retired key with KEY_REVOKED', async () => {
      const out = await s.cli(['keys', 'revoke', '--reason', 'leaked', '--', oldKid], 'admin');
      expect(out.code, out.stderr).toBe(0);
      const r = await redeem(before.token);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe('KEY_REVOKED');
      expect(await jwksKids()).not.toContain(oldKid);
      const [row] = query<{ leaf: string }>(
        s.dataDir,
        "select leaf from events where type = 'key.revoked'",
      );
      expect(JSON.parse(row!.leaf).data).toMatchObject({ kid: oldKid, reason: 'leaked' });
    });

    it('reads a kid that begins with "-" after "--" as the kid, not as an option', async () => {
      const out = await s.cli(
        ['keys', 'revoke', '--reason', 'leaked', '--', '-no-such-kid'],
        'admin',
      );
      expect(out.stderr).toContain('KEY_NOT_FOUND');
      expect(out.stderr).not.toContain('unknown option');
    });

    it('rotates first when the key is the active one', async () => {
      const w = await issueWarrant(s, { env: 'staging' });
      expect(kidOf(w.token)).toBe(newKid);
      const r = await s.http('POST', `/v1/keys/${newKid}/revocation`, {
        as: 'admin',
        body: { reason: 'compromised' },
      });
      expect(r.status, r.text).toBe(200);
      const successor = r.body.replacedBy as string;
      expect(await keyStates()).toMatchObject({ [newKid]: 'revoked', [successor]: 'active' });
      expect((await redeem(w.token)).body.code).toBe('KEY_REVOKED');
      const next = await issueWarrant(s, { env: 'staging' });
      expect(kidOf(next.token)).toBe(successor);
      expect((await redeem(next.token)).status).toBe(200);
    });

    it('still passes log verify: a revoked key vouches for what it signed before', async () => {
      await s.http('GET', `/v1/requests/${before.requestId}/evidence`, { as: 'audra' });
      const offline = await runCli(['log', 'verify', '--data', s.dataDir], {});
      expect(offline.code, offline.stdout + offline.stderr).toBe(0);
      const online = await s.cli(['log', 'verify'], 'audra');
      expect(online.code, online.stdout + online.stderr).toBe(0);
    });

    it('answers KEY_NOT_FOUND and KEY_ALREADY_REVOKED', async () => {
      const body = { reason: 'x' };
      const unknown = await s.http('POST', '/v1/keys/nope/revocation', { as: 'admin', body });
      expect([unknown.status, unknown.body.code]).toEqual([404, 'KEY_NOT_FOUND']);
      const again = await s.http('POST', `/v1/keys/${oldKid}/revocation`, { as: 'admin', body });
      expect([again.status, again.body.code]).toEqual([409, 'KEY_ALREADY_REVOKED']);
    });
  });
});

describe('starting outside dev mode', () => {
  describe('when no key-encryption key is configured', () => {
    it('refuses to start with KEK_MISSING', async () => {
      const policy = join(dir, 'policy.yaml');
      writeFileSync(policy, SAMPLE_POLICY);
      const config = join(dir, 'prod.json');
      writeFileSync(config, JSON.stringify({ policyFile: policy, dataDir: join(dir, 'prod') }));
      const out = await runCli(['serve', '--config', config, '--port', '0'], {
        COUNTERSIGN_KEK: '',
        COUNTERSIGN_KEK_FILE: '',
      });
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain('KEK_MISSING');
    });
  });
});
