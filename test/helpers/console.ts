import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server/start.js';
import type { DevPrincipal, HttpResult } from './server.js';

/** What the console sends on every call: the same-origin fetch metadata and its header. */
export const CONSOLE_CALL = { 'sec-fetch-site': 'same-origin', 'x-countersign-console': '1' };

export interface ConsoleServerOptions {
  /** Merged into the config file (an `oidc` section, `console` settings). */
  readonly config?: Record<string, unknown>;
  /** Whether a (fake) built console is served; default true. */
  readonly built?: boolean;
  readonly env?: Record<string, string>;
  /** The address it listens on; default 127.0.0.1. */
  readonly host?: string;
}

/** The `name=value` of a Set-Cookie answer, or undefined. */
export function cookieFrom(res: HttpResult, name = 'cs_session'): string | undefined {
  const set = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return set?.split(';')[0];
}

/**
 * A real countersign server in this process (dev mode, `startServer`, listening on a
 * loopback port), serving a tiny fake console build from a temporary folder so the
 * tests do not depend on the Vite build.
 */
export class ConsoleServer {
  private constructor(
    readonly running: RunningServer,
    readonly dir: string,
    readonly tokens: Readonly<Record<DevPrincipal, string>>,
  ) {}

  get url(): string {
    return this.running.url;
  }

  static async start(opts: ConsoleServerOptions = {}): Promise<ConsoleServer> {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-console-'));
    const staticDir = join(dir, 'console');
    if (opts.built ?? true) {
      mkdirSync(join(staticDir, 'assets'), { recursive: true });
      writeFileSync(
        join(staticDir, 'index.html'),
        '<!doctype html><html><head><title>countersign</title><script type="module" src="/assets/app-1a2b3c.js"></script></head><body><div id="root"></div></body></html>',
      );
      writeFileSync(join(staticDir, 'assets', 'app-1a2b3c.js'), 'console.log("console");\n');
    }
    const extra = opts.config ?? {};
    const config = {
      logLevel: 'silent',
      ...extra,
      console: { staticDir, ...(extra['console'] as object | undefined) },
    };
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const running = await startServer({
      dev: true,
      dataDir: join(dir, 'data'),
      configFile,
      port: 0,
      host: opts.host ?? '127.0.0.1',
      env: { ...opts.env },
    });
    const tokens = JSON.parse(readFileSync(running.devTokens!.file, 'utf8')) as Record<
      DevPrincipal,
      string
    >;
    return new ConsoleServer(running, dir, tokens);
  }

  async stop(): Promise<void> {
    await this.running.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async http(
    method: string,
    path: string,
    opts: {
      cookie?: string | undefined;
      as?: DevPrincipal;
      headers?: Record<string, string>;
      body?: unknown;
    } = {},
  ): Promise<HttpResult> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.cookie !== undefined) headers.cookie = opts.cookie;
    if (opts.as) headers.authorization = `Bearer ${this.tokens[opts.as]}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.url + path, {
      method,
      headers,
      redirect: 'manual',
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // HTML and empty answers stay text
    }
    return { status: res.status, headers: res.headers, body, text };
  }

  /** Signs in on the dev page as `principal` and returns the session cookie. */
  async devSignIn(principal: DevPrincipal): Promise<string> {
    const res = await this.http('POST', '/auth/dev/sign-in', {
      headers: CONSOLE_CALL,
      body: { principal },
    });
    const cookie = cookieFrom(res);
    if (res.status !== 204 || cookie === undefined) {
      throw new Error(`dev sign-in failed: ${res.status} ${res.text}`);
    }
    return cookie;
  }
}
