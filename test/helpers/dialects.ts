import { afterAll, afterEach, beforeEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/service/ports/store.js';
import { POSTGRES_UNAVAILABLE, sharedPostgres, stopSharedPostgres } from './postgres.js';

/** A store on a throwaway database, and how to dispose of it. */
export interface StoreFixture {
  readonly store: Store;
  dispose(): Promise<void>;
}

export interface DialectHarness {
  readonly name: 'sqlite' | 'postgres';
  /** Null when the dialect cannot run here; the reason is printed as the skip message. */
  readonly unavailable: string | null;
  open(): Promise<StoreFixture>;
  /** Releases what the harness keeps across tests (a database server); call in afterAll. */
  close(): Promise<void>;
}

const sqlite: DialectHarness = {
  name: 'sqlite',
  unavailable: null,
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-store-'));
    const store = await openSqliteStore({ file: join(dir, 'test.db') });
    return {
      store,
      async dispose() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  async close() {},
};

/** A database per fixture on one throwaway PostgreSQL 15 cluster per test process. */
const postgres: DialectHarness = {
  name: 'postgres',
  unavailable: POSTGRES_UNAVAILABLE,
  async open() {
    const cluster = await sharedPostgres();
    const url = await cluster.createDatabase('store');
    const store = await openPostgresStore({ url });
    return {
      store,
      async dispose() {
        await store.close();
        await cluster.dropDatabase(url);
      },
    };
  },
  close: stopSharedPostgres,
};

/** Every dialect the store suite runs on. */
export const DIALECTS: readonly DialectHarness[] = [sqlite, postgres];

/**
 * A fresh store for each test of the calling `describe` on `dialect`, seeded by `seed`,
 * and disposed of after it; the harness is closed after the last. Read it through the
 * returned getter inside a test.
 */
export function storePerTest(
  dialect: DialectHarness,
  seed: (store: Store) => Promise<void> = () => Promise.resolve(),
): () => Store {
  let fx: StoreFixture | null = null;
  beforeEach(async () => {
    fx = await dialect.open();
    await seed(fx.store);
  });
  afterEach(async () => {
    await fx?.dispose();
    fx = null;
  });
  afterAll(() => dialect.close());
  return () => {
    if (fx === null) throw new Error('the store is open only inside a test');
    return fx.store;
  };
}
