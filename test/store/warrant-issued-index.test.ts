import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

const dir = mkdtempSync(join(tmpdir(), 'cs-issued-index-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the look-up of a warrant’s issuing event', () => {
  it('walks the partial index of issuing events, not the whole log', async () => {
    const file = join(dir, 'plan.db');
    await (await openSqliteStore({ file })).close();
    const db = new SqliteDatabase(file, { readonly: true });
    try {
      // The statement evidence.ts builds for role 'warrants', as Kysely compiles it.
      const plan = db
        .prepare(
          `explain query plan select "warrant_id" as "id", "leaf_index" as "leaf" from "events"
           where "type" = 'warrant.issued' and "warrant_id" in (?, ?)`,
        )
        .all('wrt_a', 'wrt_b') as { detail: string }[];
      expect(plan.map((p) => p.detail).join('\n')).toContain('events_warrant_issued');
    } finally {
      db.close();
    }
  });
});
