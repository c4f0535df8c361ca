import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../src/evidence/index.js';
import { issueWarrant } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { runCli, type TestServer } from '../helpers/server.js';

describeOnEveryStore('evidence bundles', (store) => {
  let s: TestServer;
  let dir: string;
  let requestId: string;
  let logKey: string;
  let jwksFile: string;
  let bundleFile: string;

  beforeAll(async () => {
    s = await store.start();
    dir = mkdtempSync(join(tmpdir(), 'countersign-evidence-'));
    const w = await issueWarrant(s, { env: 'prod', maxUses: 2, targets: ['eu', 'us'] });
    requestId = w.requestId;
    const action = { resource: 'db/orders', permission: 'read', environment: 'prod', target: 'eu' };
    await s.http('POST', '/v1/redemptions', {
      as: 'deploy-eu',
      body: { warrant: w.token, action },
    });
    await s.http('POST', '/v1/redemptions', {
      as: 'deploy-us',
      body: { warrant: w.token, action },
    });
    logKey = (await s.http('GET', '/v1/log/verifier-key')).text.split('\n')[0]!;
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, (await s.http('GET', '/.well-known/jwks.json')).text);
    bundleFile = join(dir, 'bundle.json');
    const out = await s.cli(['evidence', 'export', requestId, '-o', bundleFile], 'audra');
    if (out.code !== 0) throw new Error(out.stderr);
  });
  afterAll(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('when an auditor exports a request and verifies it offline with pinned keys', () => {
    it('passes and prints the chain of custody', async () => {
      // No server address is given: the verifier needs none.
      const out = await runCli(
        ['evidence', 'verify', bundleFile, '--log-key', logKey, '--jwks', jwksFile],
        { COUNTERSIGN_ADDR: 'http://127.0.0.1:9' },
      );
      expect(out.code, out.stdout + out.stderr).toBe(0);
      expect(out.stdout).toContain('Verification: PASSED');
      expect(out.stdout).toMatch(/approved by bob/);
      expect(out.stdout).toMatch(/approved by carol/);
      expect(out.stdout).toContain('denied EXECUTOR_MISMATCH for deploy-us');
      expect(out.stdout).toContain('target us has no successful fulfilment');
    });

    it('holds every event of the chain, each with an inclusion proof', () => {
      const bundle = JSON.parse(readFileSync(bundleFile, 'utf8'));
      const types = bundle.entries.map((e: { leaf: string }) => JSON.parse(e.leaf).type);
      expect(types).toEqual([
        'request.created',
        'decision.approved',
        'decision.approved',
        'warrant.issued',
        'redemption.allowed',
        'redemption.denied',
      ]);
      expect(bundle.requestId).toBe(requestId);
      expect(
        JSON.parse(Buffer.from(bundle.attestation.payload, 'base64').toString()).subject[0].name,
      ).toBe(requestId);
    });
  });

  describe('when any single byte of the bundle changes', () => {
    it('fails verification', async () => {
      const bytes = readFileSync(bundleFile);
      const jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
      let failed = 0;
      const positions = Array.from({ length: 200 }, (_, i) => Math.floor((i * bytes.length) / 200));
      for (const p of positions) {
        const copy = Buffer.from(bytes);
        copy[p] = copy[p]! ^ 0x01;
        const report = await verifyBundle(copy, { logVerifierKey: logKey, jwks });
        if (!report.ok) failed += 1;
      }
      expect(failed).toBe(positions.length);
    });

    it('refuses a pinned JWKS file that names a key twice, or is no JWKS, as a usage error', async () => {
      const cases: [string, string][] = [
        [
          readFileSync(jwksFile, 'utf8').replace('{"keys":', '{"keys":[],"keys":'),
          'DUPLICATE_JSON_KEY',
        ],
        ['{"keys": ', 'INVALID_JSON'],
        ['{"kty":"OKP"}', 'not a JWKS'],
      ];
      for (const [text, why] of cases) {
        const file = join(dir, 'bad-jwks.json');
        writeFileSync(file, text);
        const out = await runCli(
          ['evidence', 'verify', bundleFile, '--log-key', logKey, '--jwks', file],
          {},
        );
        expect(out.code, out.stderr).toBe(2);
        expect(out.stderr).toContain(why);
        expect(out.stderr).not.toContain('SyntaxError');
      }
    });

    it('makes the CLI exit non-zero', async () => {
      const tampered = join(dir, 'tampered.json');
      writeFileSync(tampered, readFileSync(bundleFile, 'utf8').replace('deploy-us', 'deploy-uz'));
      const out = await runCli(
        ['evidence', 'verify', tampered, '--log-key', logKey, '--jwks', jwksFile],
        {},
      );
      expect(out.code).toBe(4);
      expect(out.stdout).toContain('FAILED');
    });
  });
});
