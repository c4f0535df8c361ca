import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueWarrant } from '../helpers/chain.js';
import { describeOnEveryStore } from '../helpers/e2e-stores.js';
import { runCli, type TestServer } from '../helpers/server.js';

const offline = { COUNTERSIGN_ADDR: 'http://127.0.0.1:9' };

/** The tree size a bundle's checkpoint note signs (its second line). */
const treeSize = (file: string): number =>
  Number(
    (JSON.parse(readFileSync(file, 'utf8')) as { checkpoint: string }).checkpoint.split('\n')[1],
  );

/**
 * A bundle is a snapshot: one exported before a revocation still verifies. An auditor who
 * has seen a later tree asks for at least its size, and the older bundle is refused.
 */
describeOnEveryStore('evidence verify --at-least', (store) => {
  let s: TestServer;
  let dir: string;
  let trust: string;
  let before: string;
  let after: string;

  const exportBundle = async (requestId: string, name: string): Promise<string> => {
    const file = join(dir, name);
    const out = await s.cli(['evidence', 'export', requestId, '-o', file], 'audra');
    expect(out.code, out.stderr).toBe(0);
    return file;
  };
  const verify = (file: string, ...extra: string[]) =>
    runCli(['evidence', 'verify', file, '--trust', trust, ...extra], offline);

  beforeAll(async () => {
    s = await store.start();
    dir = mkdtempSync(join(tmpdir(), 'countersign-at-least-'));
    const w = await issueWarrant(s, { maxUses: 2 });
    before = await exportBundle(w.requestId, 'before.json');
    const revoked = await s.cli(['revoke', w.warrantId, '--reason', 'runner compromised'], 'alice');
    expect(revoked.code, revoked.stderr).toBe(0);
    after = await exportBundle(w.requestId, 'after.json');
    trust = join(dir, 'trust.json');
    expect((await s.cli(['trust', 'export', '-o', trust])).code).toBe(0);
  });
  afterAll(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('when a bundle is exported before a revocation and another after it', () => {
    it('prints the checkpoint each verdict is as of', async () => {
      expect(treeSize(after)).toBeGreaterThan(treeSize(before));
      const out = await verify(before);
      expect(out.code, out.stdout + out.stderr).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`as of \\S+ tree size ${treeSize(before)}\\b`));
      expect(out.stdout).not.toContain('revoked at');
    });

    it('refuses the older bundle at the newer size with CHECKPOINT_TOO_OLD and exit 4', async () => {
      const out = await verify(before, '--at-least', String(treeSize(after)));
      expect(out.code, out.stdout + out.stderr).toBe(4);
      expect(out.stdout).toContain('Verification: FAILED');
      expect(out.stdout).toContain('FAILED CHECKPOINT_TOO_OLD');
    });

    it('passes the newer bundle at its own size, showing the revocation', async () => {
      const out = await verify(after, '--at-least', String(treeSize(after)));
      expect(out.code, out.stdout + out.stderr).toBe(0);
      expect(out.stdout).toContain('Verification: PASSED');
      expect(out.stdout).toContain('revoked at');
    });

    it('puts the checkpoint in the JSON report', async () => {
      const out = await runCli(['--json', 'evidence', 'verify', after, '--trust', trust], offline);
      expect(out.code, out.stderr).toBe(0);
      const report = JSON.parse(out.stdout) as { checkpoint: { size: number; rootHash: string } };
      expect(report.checkpoint.size).toBe(treeSize(after));
      expect(report.checkpoint.rootHash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    });

    it('refuses a size that is not a whole number as a usage error', async () => {
      const out = await verify(after, '--at-least', '12x');
      expect(out.code, out.stderr).toBe(2);
    });
  });
});
