import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NhiId } from '../../src/core/ids.js';
import type { Database } from '../../src/store/schema.js';

const ports = (conn: Kysely<Database>) => kyselyPorts(conn, sqliteSql);
import { kyselyPorts } from '../../src/store/kysely/ports.js';
import { sqliteSql } from '../../src/store/sqlite/dialect.js';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { WalSync } from '../../src/store/sqlite/wal-sync.js';

/** A durability barrier the test opens by hand. */
class Gate {
  readonly waiting: (() => void)[] = [];
  fail: Error | null = null;
  sync(): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    return new Promise((ok) => this.waiting.push(ok));
  }
  open(): void {
    for (const ok of this.waiting.splice(0)) ok();
  }
}

const nhi = (id: string) => ({
  id: id as NhiId,
  kind: 'service_account' as const,
  owner: 'team',
  description: null,
  createdAt: '2026-03-01T12:00:00.000Z',
  createdBy: 'admin',
});

describe('group commit on SQLite', () => {
  let dir: string;
  let raw: SqliteDatabase.Database;
  let db: Kysely<Database>;
  const stored = () =>
    (raw.prepare('select id from nhis order by id').all() as { id: string }[]).map((r) => r.id);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-gc-'));
    await (await openSqliteStore({ file: join(dir, 'db') })).close();
    raw = new SqliteDatabase(join(dir, 'db'));
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  });
  afterEach(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges a committed transaction only once the durability barrier returns', async () => {
    const gate = new Gate();
    const group = new GroupCommit(db, raw, gate, ports);
    let acknowledged = false;
    const done = group.run((tx) => tx.nhis.insert(nhi('svc:a'))).then(() => (acknowledged = true));
    await new Promise((ok) => setTimeout(ok, 20));
    expect(stored()).toEqual(['svc:a']);
    expect(acknowledged).toBe(false);
    gate.open();
    await done;
    expect(acknowledged).toBe(true);
  });

  it('rejects every transaction of a batch whose barrier fails', async () => {
    const gate = new Gate();
    gate.fail = new Error('disk gone');
    const group = new GroupCommit(db, raw, gate, ports);
    const results = await Promise.allSettled([
      group.run((tx) => tx.nhis.insert(nhi('svc:a'))),
      group.run((tx) => tx.nhis.insert(nhi('svc:b'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('starts no batch while held, and runs what queued once released', async () => {
    const group = new GroupCommit(db, raw, null, ports);
    const release = await group.hold();
    const done = group.run((tx) => tx.nhis.insert(nhi('svc:a')));
    await new Promise((ok) => setTimeout(ok, 20));
    expect(stored()).toEqual([]);
    release();
    await done;
    expect(stored()).toEqual(['svc:a']);
  });

  it('grants a hold only once the batch in progress has committed', async () => {
    const group = new GroupCommit(db, raw, null, ports);
    let finish!: () => void;
    const unfinished = new Promise<void>((ok) => (finish = ok));
    const running = group.run(async (tx) => {
      await tx.nhis.insert(nhi('svc:a'));
      await unfinished;
    });
    await new Promise((ok) => setTimeout(ok, 20));
    let held = false;
    const holding = group.hold().then((release) => {
      held = true;
      return release;
    });
    await new Promise((ok) => setTimeout(ok, 20));
    expect(held).toBe(false);
    finish();
    await running;
    (await holding)();
    expect(held).toBe(true);
    expect(stored()).toEqual(['svc:a']);
  });

  it('rolls back a failing transaction alone while the rest of its batch commits', async () => {
    const group = new GroupCommit(db, raw, null, ports);
    const results = await Promise.allSettled([
      group.run((tx) => tx.nhis.insert(nhi('svc:a'))),
      group.run(async (tx) => {
        await tx.nhis.insert(nhi('svc:b'));
        throw new Error('changed its mind');
      }),
      group.run((tx) => tx.nhis.insert(nhi('svc:c'))),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(stored()).toEqual(['svc:a', 'svc:c']);
  });
});

/**
 * The store as `npm test` builds it into dist/: its checkpoint worker is a compiled module of
 * its own, and run from the TypeScript sources the store keeps SQLite's own checkpoints instead.
 */
async function openBuilt(
  opts: Omit<Parameters<typeof openSqliteStore>[0], 'file'> = {},
): Promise<{ store: Awaited<ReturnType<typeof openSqliteStore>>; file: string; dir: string }> {
  const builtPath: string = '../../dist/store/sqlite/open.js';
  const built = (await import(builtPath)) as { openSqliteStore: typeof openSqliteStore };
  const dir = mkdtempSync(join(tmpdir(), 'countersign-built-'));
  const file = join(dir, 'db');
  return { store: await built.openSqliteStore({ ...opts, file }), file, dir };
}

describe('the SQLite store, as built', () => {
  it('copies the WAL into the database file from its checkpoint worker', async () => {
    const { store, file, dir } = await openBuilt();
    try {
      const before = statSync(file).size;
      for (let i = 0; i < 40; i++) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            store.transaction((tx) =>
              tx.nhis.insert({ ...nhi(`svc:${i}-${j}`), description: 'x'.repeat(500) }),
            ),
          ),
        );
      }
      // The serving connection never checkpoints by itself (wal_autocheckpoint = 0).
      await expect
        .poll(() => statSync(file).size, { timeout: 5000 })
        .toBeGreaterThan(before + 500_000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the SQLite store, as built, under writes that never pause', () => {
  it('keeps rewinding its WAL instead of growing it', async () => {
    const { store, file, dir } = await openBuilt({
      checkpoint: { everyMs: 10, restartFrames: 128 },
    });
    try {
      // 64 transactions always in flight, each about a page: the writer is never idle.
      const total = 12_000;
      let started = 0;
      let longest = 0;
      const client = async (): Promise<void> => {
        while (started < total) {
          const i = started++;
          await store.transaction((tx) =>
            tx.nhis.insert({ ...nhi(`svc:${i}`), description: 'x'.repeat(3000) }),
          );
          longest = Math.max(longest, statSync(`${file}-wal`).size);
        }
      };
      await Promise.all(Array.from({ length: 64 }, client));
      // Without the hold, every frame stays: the WAL ends longer than all that was written.
      expect(longest).toBeLessThan((total * 3000) / 4);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('WalSync', () => {
  it('fails, and keeps failing, when the WAL cannot be synced', async () => {
    const wal = new WalSync(join(tmpdir(), 'countersign-no-such-dir', 'db-wal'));
    await expect(wal.sync()).rejects.toThrow(/no longer acknowledged/);
    await expect(wal.sync()).rejects.toThrow(/no longer acknowledged/);
  });
});
