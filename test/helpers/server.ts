import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

export type DevPrincipal =
  | 'alice'
  | 'bob'
  | 'carol'
  | 'deploy-eu'
  | 'deploy-us'
  | 'k8s-admission'
  | 'mcp-gateway'
  | 'audra'
  | 'collector'
  | 'admin';

export interface StartOptions {
  readonly dataDir?: string;
  readonly extraArgs?: string[];
  readonly env?: Record<string, string>;
  /** Written as JSON into the data dir and passed with `--config` (e.g. an `oidc` section). */
  readonly config?: Record<string, unknown>;
  /** The store to serve (`COUNTERSIGN_DATABASE_URL`); SQLite in the data dir by default. */
  readonly databaseUrl?: string;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON answers
  readonly body: any;
  readonly text: string;
}

/** A real countersign server process in dev mode on a free loopback port. */
export class TestServer {
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly dataDir: string,
    readonly tokens: Readonly<Record<DevPrincipal, string>>,
    /** `sqlite:<file>` or the `postgres://` URL the server was started on. */
    readonly databaseUrl: string,
    private readonly output: string[],
    private readonly ownsDir: boolean,
  ) {}

  static async start(opts: StartOptions = {}): Promise<TestServer> {
    const ownsDir = opts.dataDir === undefined;
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'countersign-test-'));
    const args = ['serve', '--dev', '--data', dataDir, '--port', '0', ...(opts.extraArgs ?? [])];
    if (opts.config) {
      const file = join(dataDir, 'test-config.json');
      writeFileSync(file, JSON.stringify(opts.config));
      args.push('--config', file);
    }
    const proc = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        COUNTERSIGN_LOG_LEVEL: 'info',
        ...(opts.databaseUrl === undefined ? {} : { COUNTERSIGN_DATABASE_URL: opts.databaseUrl }),
        ...opts.env,
      },
    });
    const output: string[] = [];
    const url = await new Promise<string>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`server did not start:\n${output.join('')}`)),
        20_000,
      );
      const onData = (chunk: Buffer): void => {
        output.push(chunk.toString());
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output.join(''));
        if (m) {
          clearTimeout(timer);
          ok(m[1] as string);
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.once('exit', (code) => fail(new Error(`server exited ${code}:\n${output.join('')}`)));
    });
    const tokens = JSON.parse(readFileSync(join(dataDir, 'dev-tokens.json'), 'utf8')) as Record<
      DevPrincipal,
      string
    >;
    const databaseUrl = opts.databaseUrl ?? `sqlite:${join(dataDir, 'countersign.db')}`;
    return new TestServer(proc, url, dataDir, tokens, databaseUrl, output, ownsDir);
  }

  /** Everything the server printed so far (its log lines). */
  logs(): string {
    return this.output.join('');
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((ok) => this.proc.once('exit', ok));
      this.proc.kill('SIGTERM');
      await exited;
    }
    if (this.ownsDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async http(
    method: string,
    path: string,
    opts: {
      as?: DevPrincipal;
      /** A bearer credential of any kind (an OIDC token, a configured API token). */
      bearer?: string;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.as) headers.authorization = `Bearer ${this.tokens[opts.as]}`;
    if (opts.bearer !== undefined) headers.authorization = `Bearer ${opts.bearer}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (
      body !== undefined &&
      !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')
    ) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.url + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // plain text answers stay text
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /** Runs the real CLI against this server as a dev principal, or with any bearer token. */
  cli(args: string[], as?: DevPrincipal | { bearer: string }): Promise<CliResult> {
    const token = typeof as === 'object' ? as.bearer : as ? this.tokens[as] : undefined;
    return runCli(args, {
      COUNTERSIGN_ADDR: this.url,
      ...(token === undefined ? {} : { COUNTERSIGN_TOKEN: token }),
    });
  }

  /** Sets the dev server's clock to an instant, forward or back (dev mode only). */
  async setClock(to: Date): Promise<Date> {
    const r = await this.http('POST', '/v1/dev/clock', {
      as: 'admin',
      body: { to: to.toISOString() },
    });
    if (r.status !== 200) throw new Error(`clock set failed: ${r.text}`);
    return new Date((r.body as { now: string }).now);
  }

  /** Moves the dev server's clock forward (dev mode only), instead of sleeping. */
  async advanceClock(advance: string): Promise<Date> {
    const r = await this.http('POST', '/v1/dev/clock', { as: 'admin', body: { advance } });
    if (r.status !== 200) throw new Error(`clock advance failed: ${r.text}`);
    return new Date((r.body as { now: string }).now);
  }
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COUNTERSIGN_TOKEN: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.once('close', (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Starts a server `on` a store (or {@link TestServer} itself, on SQLite; or a
 * `FederatedServer`) before the tests of the enclosing suite, and stops it after them.
 * `use` receives it once it runs; tests read it from the variable `use` sets.
 */
export function serveDuringSuite<T extends { stop(): Promise<void> }>(
  on: { start(): Promise<T> },
  use: (started: T) => void,
): void {
  let server: T | undefined;
  beforeAll(async () => {
    server = await on.start();
    use(server);
  });
  afterAll(async () => {
    await server?.stop();
  });
}
