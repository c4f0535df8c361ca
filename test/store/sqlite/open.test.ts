import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';

/** The permission bits of `path` that let its group or anyone else in. */
const openToOthers = (path: string): number => statSync(path).mode & 0o077;

let root: string;
let umask: number;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'countersign-sqlite-open-'));
  // The usual umask, which left the database world-readable.
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(process.platform === 'win32')('openSqliteStore', () => {
  describe('when the path does not exist yet', () => {
    it('creates every folder, the database and its -wal and -shm for the owner alone', async () => {
      const dir = join(root, 'data', 'nested');
      const file = join(dir, 'countersign.db');
      const store = await openSqliteStore({ file });
      try {
        const created = [join(root, 'data'), dir, file, `${file}-wal`, `${file}-shm`];
        for (const path of created) {
          expect(existsSync(path), path).toBe(true);
          expect(openToOthers(path).toString(8), path).toBe('0');
        }
      } finally {
        await store.close();
      }
    });
  });

  describe('when the folder already exists', () => {
    it('leaves its permissions as its owner set them, and still makes the database private', async () => {
      const dir = join(root, 'shared');
      mkdirSync(dir);
      chmodSync(dir, 0o755);
      const store = await openSqliteStore({ file: join(dir, 'countersign.db') });
      await store.close();
      expect(statSync(dir).mode & 0o777).toBe(0o755);
      expect(openToOthers(join(dir, 'countersign.db'))).toBe(0);
    });
  });
});
