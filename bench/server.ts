import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

/** Spawns a Node process and resolves with the loopback URL it says it listens on. */
async function spawnListening(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) ok(m[1] as string);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', () => fail(new Error(out)));
  });
  return { proc, url };
}

/** A dev-mode server process on a free loopback port, optionally on a database URL. */
export function startNode(
  dir: string,
  databaseUrl?: string,
): Promise<{ proc: ChildProcess; url: string }> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under load.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return spawnListening([...nodeArgs, CLI, 'serve', '--dev', '--data', dir, '--port', '0'], {
    ...process.env,
    COUNTERSIGN_LOG_LEVEL: 'warn',
    ...(databaseUrl ? { COUNTERSIGN_DATABASE_URL: databaseUrl } : {}),
  });
}

/** The bare Fastify route, in its own process (see bare-server.ts). */
export function startBare(): Promise<{ proc: ChildProcess; url: string }> {
  return spawnListening([resolve(import.meta.dirname, 'bare-server.js')], process.env);
}

/** Stops a server process and waits until it has exited. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((ok) => proc.once('exit', ok));
  proc.kill('SIGTERM');
  await exited;
}

/** One authenticated JSON call; throws with the problem body on a non-2xx answer. */
export async function call(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, string>> {
  const res = await fetch(url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as Record<string, string>;
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}
