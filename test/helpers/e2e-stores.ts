import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe } from 'vitest';
import {
  POSTGRES_UNAVAILABLE,
  postgresTool,
  sharedPostgres,
  stopSharedPostgres,
} from './postgres.js';
import { TestServer, type StartOptions } from './server.js';

const run = promisify(execFile);

/** A data dir and a database that outlive restarts of the server serving them. */
export interface Deployment {
  start(opts?: StartOptions): Promise<TestServer>;
  /** Backs the database up while a server runs, the way an operator would. */
  backup(): Promise<Backup>;
  /** Puts a backup back while no server runs: the next `start()` serves it. */
  restore(backup: Backup): Promise<void>;
  dispose(): Promise<void>;
}

/** Where a backup is kept; opaque to the suites. */
export interface Backup {
  readonly file: string;
}

/** A store the end-to-end suites run on. */
export interface E2EStore {
  readonly name: 'SQLite' | 'PostgreSQL';
  /** Null when this store cannot run here; the reason is printed as the skip message. */
  readonly unavailable: string | null;
  /** A server on a fresh, empty database of its own. */
  start(opts?: StartOptions): Promise<TestServer>;
  deployment(): Promise<Deployment>;
  /** Releases what is kept across a file's suites (a database server). */
  release(): Promise<void>;
}

const sqlite: E2EStore = {
  name: 'SQLite',
  unavailable: null,
  start: (opts) => TestServer.start(opts),
  async deployment() {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-e2e-'));
    const dataDir = join(dir, 'data');
    const db = join(dataDir, 'countersign.db');
    let backups = 0;
    return {
      start: (opts) => TestServer.start({ ...opts, dataDir }),
      async backup() {
        // SQLite's online backup, as `sqlite3 countersign.db .backup FILE` takes it.
        const file = join(dir, `backup-${++backups}.db`);
        const live = new Database(db, { readonly: true, fileMustExist: true });
        try {
          await live.backup(file);
        } finally {
          live.close();
        }
        return { file };
      },
      async restore({ file }) {
        for (const f of [`${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
        copyFileSync(file, db);
      },
      async dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  async release() {},
};

/** One throwaway cluster per test file, a database per server or deployment. */
const postgres: E2EStore = {
  name: 'PostgreSQL',
  unavailable: POSTGRES_UNAVAILABLE,
  async start(opts) {
    const databaseUrl = await (await sharedPostgres()).createDatabase('e2e');
    return TestServer.start({ ...opts, databaseUrl });
  },
  async deployment() {
    const cluster = await sharedPostgres();
    const dir = mkdtempSync(join(tmpdir(), 'countersign-e2e-'));
    let databaseUrl = await cluster.createDatabase('e2e');
    let backups = 0;
    return {
      start: (opts) => TestServer.start({ ...opts, dataDir: join(dir, 'data'), databaseUrl }),
      async backup() {
        const file = join(dir, `backup-${++backups}.dump`);
        await run(postgresTool('pg_dump')!, ['--format=custom', '--file', file, databaseUrl]);
        return { file };
      },
      async restore({ file }) {
        // Restored into a new database that the deployment serves from now on.
        databaseUrl = await cluster.createDatabase('restored');
        await run(postgresTool('pg_restore')!, ['--no-owner', '--dbname', databaseUrl, file]);
      },
      async dispose() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  release: stopSharedPostgres,
};

/** Every store a deployment may run on. */
export const E2E_STORES: readonly E2EStore[] = [sqlite, postgres];

/**
 * Declares one suite per store, titled `<title>, on <store>`. Call it once per file:
 * the PostgreSQL cluster is released when its suite ends.
 */
export function describeOnEveryStore(title: string, body: (store: E2EStore) => void): void {
  for (const store of E2E_STORES) {
    describe.skipIf(store.unavailable !== null)(`${title}, on ${store.name}`, () => {
      afterAll(() => store.release());
      body(store);
    });
  }
}
