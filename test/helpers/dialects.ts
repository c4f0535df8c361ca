import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';

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
};

/** Every dialect the store suite runs on. */
export const DIALECTS: readonly DialectHarness[] = [sqlite];
