import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { requestBody } from '../test/fixtures/request-body.js';

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
  extra: { readonly args?: readonly string[]; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<{ proc: ChildProcess; url: string }> {
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under load.
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const serve = [CLI, 'serve', '--dev', '--data', dir, '--port', '0', ...(extra.args ?? [])];
  return spawnListening([...nodeArgs, ...serve], {
    ...process.env,
    COUNTERSIGN_LOG_LEVEL: 'warn',
    ...(databaseUrl ? { COUNTERSIGN_DATABASE_URL: databaseUrl } : {}),
    ...extra.env,
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

// A policy that allows long-lived, many-use warrants, so a few warrants carry the whole load.
export const BENCH_POLICY = `version: 1
environments: [staging]
rules:
  - name: bench
    approvals: { required: 1, groups: [sre] }
    maxDuration: 8h
    maxUses: 1000000
`;

/** Eight many-use warrants, issued through `url`, as redemption bodies (one table each). */
export async function redemptionBodies(
  url: string,
  tokens: Record<string, string>,
  subjectPrefix: string,
): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < 8; i++) {
    const subject = `agent:${subjectPrefix}-${i}`;
    await call(url, tokens.admin!, 'POST', '/v1/nhis', {
      id: subject,
      kind: 'ai_agent',
      owner: 't',
    });
    const body = requestBody(subject, {
      scope: [{ resource: 'db/*', permissions: ['read'] }],
      duration: '8h',
      maxUses: 1_000_000,
      reason: 'bench',
    });
    const r = await call(url, tokens.alice!, 'POST', '/v1/requests', body);
    await call(url, tokens.bob!, 'POST', `/v1/requests/${r.id}/decisions`, { decision: 'approve' });
    const w = await call(url, tokens.admin!, 'GET', `/v1/requests/${r.id}/warrant`);
    bodies.push(
      JSON.stringify({
        warrant: w.token,
        action: { resource: `db/table${i}`, permission: 'read', environment: 'staging' },
      }),
    );
  }
  return bodies;
}
