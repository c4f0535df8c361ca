/**
 * docker-compose.yml's stack without Docker: its migrate and node command lines, with
 * the environment it sets and the files it mounts, run as processes on a real
 * PostgreSQL. What Docker would add (the network name `postgres`, port publishing, the
 * container's interfaces) is replaced by loopback; everything else is the file's own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  pgQuery,
  POSTGRES_UNAVAILABLE,
  startPostgres,
  type PostgresCluster,
} from '../helpers/postgres.js';
import { CLI, runCli } from '../helpers/server.js';
import { composeHostPath, composeServices, dockerStages, execForm } from './files.js';

/** The values `docker compose` would take from the shell for the file's `${NAME:?…}`. */
const SHELL = {
  POSTGRES_PASSWORD: randomBytes(12).toString('hex'),
  COUNTERSIGN_KEK: randomBytes(32).toString('hex'),
};

function interpolate(value: string): string {
  return value.replace(/\$\{([A-Z_][A-Z0-9_]*):\?[^}]*\}/g, (_, name: string) => {
    const v = (SHELL as Record<string, string>)[name];
    if (v === undefined) throw new Error(`the compose file needs ${name}`);
    return v;
  });
}

/** A service's environment as compose passes it, with the database host on loopback. */
function serviceEnv(name: string, pgPort: number): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('COUNTERSIGN_')),
  ) as Record<string, string>;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(composeServices()[name]!.environment ?? {})) {
    env[k] = interpolate(v);
  }
  const url = new URL(env.COUNTERSIGN_DATABASE_URL!);
  expect(url.host).toBe('postgres:5432'); // the compose service name and PostgreSQL's port
  url.host = `127.0.0.1:${pgPort}`;
  return { ...inherited, ...env, COUNTERSIGN_DATABASE_URL: url.href };
}

/** A service's command line, with its bind mounts and volumes mapped to this machine. */
function serviceArgs(name: string, dataDir: string): string[] {
  const svc = composeServices()[name]!;
  return svc.command!.map((arg, i, all) => {
    if (all[i - 1] === '--host') return '127.0.0.1'; // the container's interfaces
    if (arg === '/data') return dataDir; // the image's VOLUME
    return arg.startsWith('/') ? (composeHostPath(svc, arg) ?? arg) : arg;
  });
}

/** The image's HEALTHCHECK command, run here against a node's port. */
function healthcheck(port: number): number | null {
  const hc = dockerStages()
    .at(-1)!
    .instructions.find((i) => i.keyword === 'HEALTHCHECK')!;
  const [, ...rest] = execForm(/CMD\s+(\[.*\])$/.exec(hc.args)![1]!);
  return spawnSync(process.execPath, rest, {
    env: { ...process.env, COUNTERSIGN_PORT: String(port) },
    timeout: 20_000,
  }).status;
}

interface Node {
  readonly proc: ChildProcess;
  readonly url: string;
}

/** Starts a compose node as a process; resolves once it listens. */
function startNode(name: string, pgPort: number, dataDir: string): Promise<Node> {
  // Both containers listen on 8470; here they share one machine, so each takes a free port.
  const env = { ...serviceEnv(name, pgPort), COUNTERSIGN_PORT: '0' };
  const proc = spawn(process.execPath, [CLI, ...serviceArgs(name, dataDir)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start:\n${output}`)), 30_000);
    const onData = (c: Buffer): void => {
      output += c.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        ok({ proc, url: m[1]! });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => fail(new Error(`${name} exited ${code}:\n${output}`)));
  });
}

async function stopNode(node: Node | undefined): Promise<void> {
  if (!node || node.proc.exitCode !== null || node.proc.signalCode !== null) return;
  const exited = new Promise((ok) => node.proc.once('exit', ok));
  node.proc.kill('SIGTERM');
  await exited;
}

describe.skipIf(POSTGRES_UNAVAILABLE !== null)('docker-compose.yml, run without Docker', () => {
  let cluster: PostgresCluster;
  let pgPort: number;
  let dir: string;
  let a: Node | undefined;
  let b: Node | undefined;

  beforeAll(async () => {
    cluster = await startPostgres();
    pgPort = cluster.port;
    dir = mkdtempSync(join(tmpdir(), 'countersign-compose-'));
    // What the postgres image makes of POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB.
    const admin = `postgres://postgres@127.0.0.1:${pgPort}/postgres`;
    await pgQuery(admin, `create role countersign login password '${SHELL.POSTGRES_PASSWORD}'`);
    await pgQuery(admin, 'create database countersign owner countersign');
  });
  afterAll(async () => {
    await stopNode(a);
    await stopNode(b);
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('when the migrate service runs', () => {
    it('brings the schema up to date and exits 0', async () => {
      const r = await runCli(serviceArgs('migrate', dir), serviceEnv('migrate', pgPort));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('postgres schema is up to date');
    });
  });

  describe('when both nodes start together on the migrated database', () => {
    beforeAll(async () => {
      [a, b] = await Promise.all([
        startNode('countersign-a', pgPort, join(dir, 'a')),
        startNode('countersign-b', pgPort, join(dir, 'b')),
      ]);
    });

    it("pass the image's healthcheck", () => {
      for (const node of [a!, b!]) expect(healthcheck(Number(new URL(node.url).port))).toBe(0);
    });

    it('publish one key set: they share the key ring through the database and the KEK', async () => {
      const [ja, jb] = await Promise.all(
        [a!, b!].map(async (n) => (await fetch(`${n.url}/.well-known/jwks.json`)).json()),
      );
      expect((ja as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
      expect(jb).toEqual(ja);
    });

    it('fail the healthcheck once the database is gone, and keep running', async () => {
      await cluster.stop();
      expect(healthcheck(Number(new URL(a!.url).port))).toBe(1);
      expect(a!.proc.exitCode).toBeNull();
      const health = await fetch(`${a!.url}/healthz`);
      expect(health.status).toBe(200);
    });
  });
});
