import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/server.js';

/** `migrate` on SQLite, run by the built CLI (`npm run build` first). */
describe('countersign migrate', () => {
  let root: string;
  let n = 0;
  const freshDir = () => mkdtempSync(join(root, `${(n += 1)}-`));
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'cs-migrate-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  describe('when --data is given and COUNTERSIGN_DATABASE_URL is set', () => {
    it('migrates the database in --data, and names it', async () => {
      const [flagged, fromEnv] = [freshDir(), freshDir()];
      const out = await runCli(['migrate', '--data', flagged], {
        COUNTERSIGN_DATABASE_URL: `sqlite:${join(fromEnv, 'countersign.db')}`,
      });
      expect(out.code, out.stderr).toBe(0);
      const db = join(flagged, 'countersign.db');
      expect(out.stdout).toBe(`sqlite schema is up to date (sqlite:${db})\n`);
      expect(existsSync(db)).toBe(true);
      expect(existsSync(join(fromEnv, 'countersign.db'))).toBe(false);
    });
  });

  describe('when only COUNTERSIGN_DATABASE_URL names a database', () => {
    it('migrates that one', async () => {
      const fromEnv = freshDir();
      const db = join(fromEnv, 'countersign.db');
      const out = await runCli(['--json', 'migrate'], { COUNTERSIGN_DATABASE_URL: `sqlite:${db}` });
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual({
        dialect: 'sqlite',
        database: `sqlite:${db}`,
        status: 'up to date',
      });
    });
  });

  describe('when --database and --data are both given', () => {
    it('refuses them as a usage error (exit 2), migrating neither', async () => {
      const [a, b] = [freshDir(), freshDir()];
      const out = await runCli(
        ['migrate', '--database', `sqlite:${join(a, 'countersign.db')}`, '--data', b],
        {},
      );
      expect(out.code, out.stderr).toBe(2);
      expect(out.stderr).toContain("option '--database <url>' cannot be used with option '--data");
      expect(existsSync(join(a, 'countersign.db'))).toBe(false);
      expect(existsSync(join(b, 'countersign.db'))).toBe(false);
    });
  });
});
