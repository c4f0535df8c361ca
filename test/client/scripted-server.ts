import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the scripted server answers one request with; `hang` never answers. */
export type Answer =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | 'hang';

export interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** `performance.now()` when the request arrived. */
  readonly at: number;
}

/** A problem+json answer, as countersign's server writes them. */
export const problemAnswer = (
  status: number,
  code: string,
  detail = 'scripted',
  headers: Record<string, string> = {},
): Answer => ({
  status,
  headers: { 'content-type': 'application/problem+json', ...headers },
  body: JSON.stringify({ type: 'urn:test', title: code, status, code, detail }),
});

export const jsonAnswer = (body: unknown, status = 200): Answer => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * A real HTTP server on 127.0.0.1 that answers the n-th request (0-based) as `script`
 * says, and records every request it saw: the client's retries, counted on the wire.
 */
export class ScriptedServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly seen: Seen[],
  ) {}

  static async start(script: (n: number, req: Seen) => Answer): Promise<ScriptedServer> {
    const seen: Seen[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const request: Seen = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: performance.now(),
        };
        const n = seen.push(request) - 1;
        const answer = script(n, request);
        if (answer === 'hang') return;
        res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    return new ScriptedServer(server, `http://127.0.0.1:${port}`, seen);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((ok) => this.server.close(ok));
  }
}

/** An address on which nothing listens: a port that was just free and is closed again. */
export async function deadAddress(): Promise<string> {
  const s = await ScriptedServer.start(() => ({ status: 200 }));
  await s.stop();
  return s.url;
}
