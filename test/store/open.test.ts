import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  databaseKind,
  isPostgresUrl,
  openReadOnlyStore,
  openStore,
  sqliteFile,
} from '../../src/store/open.js';
import { expectCode, expectCodeAsync } from '../helpers/expect-code.js';

// A relative path is where a URL taken for a SQLite path would land: run in an empty folder.
let cwd: string;
let dir: string;
beforeEach(() => {
  cwd = process.cwd();
  dir = mkdtempSync(join(tmpdir(), 'countersign-open-'));
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

const PASSWORD = 'S3cret';
const UNSERVED = [`mysql://u:${PASSWORD}@h/db`, `postgress://u:${PASSWORD}@h/db`];

describe('openStore', () => {
  describe('when the database URL has a scheme no store serves', () => {
    it.each(UNSERVED)('refuses %s with CONFIG_INVALID, naming the scheme alone', async (url) => {
      const scheme = url.slice(0, url.indexOf('://'));
      const err = await expectCodeAsync(() => openStore(url), 'CONFIG_INVALID');
      expect(err.message).toContain(`"${scheme}://"`);
      expect(err.message).not.toContain(PASSWORD);
      expect(readdirSync(dir)).toEqual([]);
    });

    it.each(UNSERVED)('refuses %s read-only too, creating nothing', async (url) => {
      await expectCodeAsync(() => openReadOnlyStore(url), 'CONFIG_INVALID');
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});

describe('sqliteFile', () => {
  it.each(UNSERVED)('refuses %s rather than make a path of it', (url) => {
    const err = expectCode(() => sqliteFile(url), 'CONFIG_INVALID');
    expect(err.message).not.toContain(PASSWORD);
  });

  it('takes the path of a sqlite: URL in any case, and a bare path as it is', () => {
    expect(sqliteFile('sqlite:data/countersign.db')).toBe('data/countersign.db');
    expect(sqliteFile('SQLite:data/countersign.db')).toBe('data/countersign.db');
    expect(sqliteFile('data/countersign.db')).toBe('data/countersign.db');
    expect(sqliteFile(':memory:')).toBe(':memory:');
  });
});

describe('databaseKind', () => {
  it.each(['', '  ', 'sqlite:'])('refuses the empty URL %j with CONFIG_INVALID', (url) => {
    expectCode(() => databaseKind(url), 'CONFIG_INVALID');
  });
});

describe('isPostgresUrl', () => {
  it('reads the scheme case-insensitively, so POSTGRES:// is PostgreSQL', () => {
    expect(isPostgresUrl(`POSTGRES://u:${PASSWORD}@h/db`)).toBe(true);
    expect(isPostgresUrl('PostgreSQL://h/db')).toBe(true);
    expect(isPostgresUrl('postgres://h/db')).toBe(true);
  });

  it('answers false for sqlite: URLs and bare paths', () => {
    expect(isPostgresUrl('sqlite:./data/countersign.db')).toBe(false);
    expect(isPostgresUrl('./data/postgres.db')).toBe(false);
  });
});
