/**
 * The CLI's HTTP client. It knows nothing of the database: every command except
 * `serve` talks to the server at COUNTERSIGN_ADDR.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Exit codes: 3 a denied redemption, 4 a log inconsistency, 2 a usage or request error,
 * 1 a server error, 5 verified only against keys the evidence carried itself.
 */
export const EXIT = {
  ok: 0,
  server: 1,
  usage: 2,
  denied: 3,
  inconsistent: 4,
  unpinned: 5,
} as const;

export interface ClientOptions {
  readonly addr: string;
  readonly token: string | undefined;
}

interface ProblemBody {
  code?: string;
  detail?: string;
}

export class Client {
  constructor(private readonly opts: ClientOptions) {}

  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.opts.addr), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new CliError(`cannot reach ${this.opts.addr}: ${(e as Error).message}`, EXIT.server);
    }
    const text = await res.text();
    if (res.ok) {
      const type = res.headers.get('content-type') ?? '';
      return (type.includes('json') ? JSON.parse(text) : text) as T;
    }
    let p: ProblemBody = {};
    try {
      p = JSON.parse(text) as ProblemBody;
    } catch {
      // not a problem document: report the status alone
    }
    const code = p.code ?? `HTTP_${res.status}`;
    const exit = res.status >= 500 ? EXIT.server : EXIT.usage;
    throw new CliError(`${code}: ${p.detail ?? res.statusText}`, exit, code);
  }
}
