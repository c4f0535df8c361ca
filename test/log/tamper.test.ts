import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { canonicalJson } from '../../src/core/canonical.js';
import { leafHash } from '../../src/log/hash.js';
import { encodeEvent } from '../../src/log/event.js';
import { auditStore } from '../../src/service/audit-log.js';
import { integrateBatch } from '../../src/service/integrate.js';
import { loadOrCreateKeyRing } from '../../src/service/keys.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { runCli } from '../helpers/server.js';

const ORIGIN = 'countersign.test/log';
let dir: string;
let base: string;
let size: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-tamper-'));
  base = join(dir, 'base.db');
  const store = await openSqliteStore({ file: base });
  const clock = new ManualClock();
  const ring = await loadOrCreateKeyRing(store, randomBytes(32), clock);
  const ctx = { store, clock, keys: () => ring, origin: ORIGIN };
  // Several batches, so that several checkpoints of different sizes are stored.
  for (let batch = 0; batch < 6; batch++) {
    await store.transaction(async (tx) => {
      for (let i = 0; i < 7 + batch; i++) {
        clock.advance(1000);
        await tx.log.append(
          encodeEvent({
            v: 1,
            type: 'nhi.registered',
            at: clock.now().toISOString(),
            actor: `a${batch}`,
            links: { nhi: `svc:n${batch}-${i}` },
            data: { batch, i },
          }),
        );
      }
    });
    await integrateBatch(ctx);
  }
  size = (await store.read.log.latestCheckpoint())!.size;
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Tamper =
  | { kind: 'update'; index: number; rehash: boolean }
  | { kind: 'delete'; index: number }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'insert'; index: number };

function apply(file: string, t: Tamper): void {
  const db = new Database(file);
  try {
    const row = (i: number) =>
      db.prepare('select id, leaf, leaf_hash from events where leaf_index = ?').get(i) as {
        id: number;
        leaf: string;
        leaf_hash: string;
      };
    switch (t.kind) {
      case 'update': {
        const r = row(t.index);
        const ev = JSON.parse(r.leaf);
        ev.actor = `${ev.actor}-edited`;
        const leaf = canonicalJson(ev);
        const hash = t.rehash ? leafHash(Buffer.from(leaf)).toString('hex') : r.leaf_hash;
        db.prepare('update events set leaf = ?, leaf_hash = ? where id = ?').run(leaf, hash, r.id);
        break;
      }
      case 'delete':
        db.prepare('delete from events where leaf_index = ?').run(t.index);
        break;
      case 'swap': {
        const a = row(t.a);
        const b = row(t.b);
        db.prepare('update events set leaf = ?, leaf_hash = ? where id = ?').run(
          b.leaf,
          b.leaf_hash,
          a.id,
        );
        db.prepare('update events set leaf = ?, leaf_hash = ? where id = ?').run(
          a.leaf,
          a.leaf_hash,
          b.id,
        );
        break;
      }
      case 'insert': {
        // Shift the tail up by one and insert a well-formed, correctly hashed forged event.
        db.prepare('update events set leaf_index = -leaf_index - 1 where leaf_index >= ?').run(
          t.index,
        );
        db.prepare('update events set leaf_index = -leaf_index where leaf_index < 0').run();
        const leaf = canonicalJson({
          v: 1,
          type: 'decision.approved',
          at: '2026-01-01T00:00:00.000Z',
          actor: 'mallory',
          links: {},
          data: {},
        });
        db.prepare(
          "insert into events (type, at, actor, leaf, leaf_hash, leaf_index) values ('decision.approved', 'x', 'mallory', ?, ?, ?)",
        ).run(leaf, leafHash(Buffer.from(leaf)).toString('hex'), t.index);
        break;
      }
    }
  } finally {
    db.close();
  }
}

async function audit(file: string) {
  const store = await openSqliteStore({ file, readonly: true });
  try {
    return await auditStore(store);
  } finally {
    await store.close();
  }
}

describe('log verify', () => {
  describe('when nothing was changed', () => {
    it('passes on the untouched log', async () => {
      const r = await audit(base);
      expect(r).toMatchObject({ ok: true, entries: size });
    });
  });

  describe('when a row is tampered with directly in the SQLite file', () => {
    it('detects every update, delete, swap and insert', async () => {
      const idx = fc.integer({ min: 0, max: size - 1 });
      const tamper: fc.Arbitrary<Tamper> = fc.oneof(
        fc.record({ kind: fc.constant('update' as const), index: idx, rehash: fc.boolean() }),
        fc.record({ kind: fc.constant('delete' as const), index: idx }),
        fc
          .tuple(idx, idx)
          .filter(([a, b]) => a !== b)
          .map(([a, b]) => ({ kind: 'swap' as const, a, b })),
        fc.record({
          kind: fc.constant('insert' as const),
          index: fc.integer({ min: 0, max: size }),
        }),
      );
      let tried = 0;
      let detected = 0;
      await fc.assert(
        fc.asyncProperty(tamper, async (t) => {
          const file = join(dir, `t${tried}.db`);
          copyFileSync(base, file);
          apply(file, t);
          tried += 1;
          const r = await audit(file);
          rmSync(file);
          if (!r.ok) detected += 1;
          expect(r.ok, JSON.stringify(t)).toBe(false);
        }),
        { numRuns: 150 },
      );
      console.log(`log tamper detection: ${detected}/${tried} tampered logs detected`);
      expect(detected).toBe(tried);
    });

    it('makes the `log verify --data` command exit 4 and name the first divergence', async () => {
      const data = join(dir, 'cli');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(data);
      copyFileSync(base, join(data, 'countersign.db'));
      apply(join(data, 'countersign.db'), { kind: 'delete', index: 3 });
      const out = await runCli(['log', 'verify', '--data', data], {});
      expect(out.code).toBe(4);
      expect(out.stdout).toContain('DIVERGES at entry 3: INDEX_GAP');
    });
  });
});
