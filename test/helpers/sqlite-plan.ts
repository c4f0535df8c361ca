import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

/**
 * SQLite's plan for `statement` on a fresh store with every migration applied, one step
 * per line (`explain query plan`), so a test can say which index a store query walks.
 */
export async function sqlitePlan(statement: string, params: readonly unknown[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-plan-'));
  try {
    const file = join(dir, 'plan.db');
    await (await openSqliteStore({ file })).close();
    const db = new SqliteDatabase(file, { readonly: true });
    try {
      const steps = db.prepare(`explain query plan ${statement}`).all(...params) as {
        detail: string;
      }[];
      return steps.map((s) => s.detail).join('\n');
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
