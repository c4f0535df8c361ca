import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

/** A dev-mode server process on a free loopback port, optionally on a database URL. */
export async function startNode(
  dir: string,
  databaseUrl?: string,
): Promise<{ proc: ChildProcess; url: string }> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under load.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, CLI, 'serve', '--dev', '--data', dir, '--port', '0'];
  const proc = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      COUNTERSIGN_LOG_LEVEL: 'warn',
      ...(databaseUrl ? { COUNTERSIGN_DATABASE_URL: databaseUrl } : {}),
    },
  });
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
