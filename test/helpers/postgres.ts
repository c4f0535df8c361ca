import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

/**
 * A throwaway PostgreSQL 15 cluster for tests: initdb into a temp dir, `postgres` on a
 * free loopback port with its socket in that dir and fsync on, one database per caller,
 * everything removed at stop.
 *
 * initdb and postgres refuse to run as root, and CI runs as root: there both run as
 * `nobody` through `setpriv`, with the temp dir handed to that user. `setpriv
 * --pdeathsig` also stops the server if the test process dies without cleaning up.
 */

const FALLBACK_BIN = '/usr/lib/postgresql/15/bin';

/** The folder holding initdb and postgres: on PATH first, then Debian's PostgreSQL 15. */
export function postgresBinDir(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), FALLBACK_BIN];
  return dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres'))) ?? null;
}

/** A PostgreSQL client tool (pg_dump, pg_restore…): on PATH first, then Debian's PostgreSQL 15. */
export function postgresTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), FALLBACK_BIN];
  const dir = dirs.find((d) => existsSync(join(d, name)));
  return dir === undefined ? null : join(dir, name);
}

const requiredInCi = process.env.CI === 'true';

/**
 * Why PostgreSQL tests cannot run here, or null when they can. Under `CI=true` this is
 * always null, so that missing binaries fail the run instead of skipping it.
 */
export const POSTGRES_UNAVAILABLE: string | null =
  postgresBinDir() !== null || requiredInCi
    ? null
    : `PostgreSQL tests skipped: initdb/postgres not found on PATH or in ${FALLBACK_BIN} ` +
      '(install PostgreSQL 15; under CI=true their absence fails the run)';

if (POSTGRES_UNAVAILABLE !== null) process.stderr.write(`${POSTGRES_UNAVAILABLE}\n`);

export interface PostgresCluster {
  readonly port: number;
  /** Creates an empty database and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /** Drops a database made by `createDatabase`, ending its sessions. */
  dropDatabase(url: string): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('port'))));
    });
  });
}

interface Runner {
  readonly command: string;
  readonly prefix: readonly string[];
  readonly uid: number | null;
}

/** How to run a PostgreSQL binary: as `nobody` when we are root, and tied to our life. */
function runner(): Runner {
  const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
  const root = process.getuid?.() === 0;
  if (root && !hasSetpriv) {
    throw new Error('running as root needs setpriv (util-linux) to start PostgreSQL as nobody');
  }
  if (!hasSetpriv) return { command: '', prefix: [], uid: null };
  const uid = root ? Number(execFileSync('id', ['-u', 'nobody']).toString().trim()) : null;
  const gid = root ? Number(execFileSync('id', ['-g', 'nobody']).toString().trim()) : null;
  return {
    command: 'setpriv',
    prefix: [
      ...(uid === null || gid === null
        ? []
        : [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups']),
      '--pdeathsig',
      'SIGQUIT',
      '--',
    ],
    uid,
  };
}

function run(r: Runner, bin: string, args: string[]): ChildProcess {
  return r.command === ''
    ? spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(r.command, [...r.prefix, bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(p: ChildProcess): Promise<number | null> {
  return new Promise((ok) => {
    if (p.exitCode !== null || p.signalCode !== null) ok(p.exitCode);
    else p.once('exit', (code) => ok(code));
  });
}

async function waitReady(port: number, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) {
      throw new Error(`postgres exited ${server.exitCode}`);
    }
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    try {
      await c.connect();
      await c.query('select 1');
      await c.end();
      return;
    } catch {
      await c.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error('postgres did not start within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts a new cluster. Throws (never skips) when the binaries are missing. */
export async function startPostgres(): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (bin === null) {
    throw new Error(
      `PostgreSQL binaries not found on PATH or in ${FALLBACK_BIN}` +
        (requiredInCi ? ' (CI=true: the PostgreSQL tests must run)' : ''),
    );
  }
  const r = runner();
  const base = process.getuid?.() === 0 && existsSync('/tmp') ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'countersign-pg-'));
  if (r.uid !== null) chownSync(dir, r.uid, r.uid);
  const data = join(dir, 'data');
  try {
    const init = run(r, join(bin, 'initdb'), [
      '-D',
      data,
      '--auth=trust',
      '-U',
      'postgres',
      '--locale=C',
      '-E',
      'UTF8',
      '--no-instructions',
    ]);
    let initOut = '';
    init.stdout?.on('data', (c: Buffer) => (initOut += c.toString()));
    init.stderr?.on('data', (c: Buffer) => (initOut += c.toString()));
    if ((await exited(init)) !== 0) throw new Error(`initdb failed:\n${initOut}`);

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const server = run(r, join(bin, 'postgres'), [
        '-D',
        data,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${dir}`,
        '-c',
        'fsync=on',
        '-c',
        'max_connections=300',
      ]);
      let log = '';
      server.stderr?.on('data', (c: Buffer) => {
        if (log.length < 64_000) log += c.toString();
      });
      try {
        await waitReady(port, server);
      } catch (e) {
        server.kill('SIGKILL');
        await exited(server);
        // Another process may have taken the port between our probe and postgres's bind.
        if (attempt < 3 && /could not bind|Address already in use/.test(log)) continue;
        throw new Error(`${(e as Error).message}\n${log}`, { cause: e });
      }
      return cluster(dir, port, server);
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

function cluster(dir: string, port: number, server: ChildProcess): PostgresCluster {
  let n = 0;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  const cleanup = (): void => {
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  return {
    port,
    async createDatabase(prefix = 'test') {
      const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${++n}`;
      await admin((c) => c.query(`create database "${name}"`));
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async dropDatabase(url) {
      const name = new URL(url).pathname.slice(1);
      await admin(async (c) => {
        // A pool's end() resolves once it has told its clients to end, before their
        // backends are gone. Forcing the drop then terminates them, and the FATAL a client
        // receives while ending has no listener: an uncaught error in whichever test runs.
        for (let waited = 0; waited < 2000; waited += 20) {
          const { rows } = await c.query<{ n: number }>(
            'select count(*)::int as n from pg_stat_activity where datname = $1',
            [name],
          );
          if (rows[0]?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await c.query(`drop database if exists "${name}" with (force)`);
      });
    },
    async stop() {
      process.removeListener('exit', cleanup);
      if (server.exitCode === null && server.signalCode === null) {
        const done = exited(server);
        server.kill('SIGINT'); // fast shutdown: roll back sessions, checkpoint, exit
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let shared: Promise<PostgresCluster> | null = null;

/** One cluster per test process, started on first use. */
export function sharedPostgres(): Promise<PostgresCluster> {
  shared ??= startPostgres();
  return shared;
}

/** Stops the per-process cluster, if one was started. */
export async function stopSharedPostgres(): Promise<void> {
  const s = shared;
  shared = null;
  if (s) await (await s).stop();
}

/** Runs one query against a database URL, for tests that inspect what a server wrote. */
export async function pgQuery<T>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}
