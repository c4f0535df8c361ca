import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JWK } from 'jose';
import type { ConnectorCall, ConnectorGrantCall } from '../../src/core/connector-call.js';
import { verifyConnectorCall } from '../../src/evidence/connector-call.js';

/**
 * A real webhook receiver on a loopback port, as an integrator would write one: it
 * verifies every call with `verifyConnectorCall` against the server's JWKS before
 * acting, mints a random API token per grant id (the same one for a retried grant), and
 * forgets it on revoke. Tests script failures ahead of the default behaviour.
 */

/** What one request got: a status and body, or a connection dropped without an answer. */
export type Reply =
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | 'drop';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The verified call, or the code it was refused with. */
  readonly call: ConnectorCall | null;
  readonly refused: string | null;
}

export class Receiver {
  readonly received: Received[] = [];
  /** Scripted replies, used up one per request before the default behaviour. */
  readonly script: Reply[] = [];
  /** Live credentials by grant id. */
  readonly live = new Map<string, string>();
  /** The grant call behind each live credential. */
  readonly grants = new Map<string, ConnectorGrantCall>();
  /** What a GET answers, unless scripted: a document, or one made at each call. */
  observations: unknown = { observations: [] };

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly jwks: () => Promise<{ keys: JWK[] }> | { keys: JWK[] },
  ) {}

  static async start(jwks: () => Promise<{ keys: JWK[] }> | { keys: JWK[] }): Promise<Receiver> {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    const self = new Receiver(server, `http://127.0.0.1:${port}`, jwks);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        void self.handle(req.method ?? '', req.url ?? '', req.headers, raw).then((reply) => {
          if (reply === 'drop') {
            req.socket.destroy();
            return;
          }
          res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
          res.end(reply.body ?? '');
        });
      });
    });
    return self;
  }

  /** The calls that verified, in order. */
  calls(): ConnectorCall[] {
    return this.received.flatMap((r) => (r.call === null ? [] : [r.call]));
  }

  private async handle(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    raw: Buffer,
  ): Promise<Reply> {
    const body = raw.toString('utf8');
    let call: ConnectorCall | null = null;
    let refused: string | null = null;
    if (method === 'POST') {
      try {
        call = verifyConnectorCall(raw, await this.jwks());
      } catch (e) {
        refused = (e as { code?: string }).code ?? 'ERROR';
      }
    }
    this.received.push({ method, path, headers, body, call, refused });
    const scripted = this.script.shift();
    if (scripted !== undefined) return scripted;
    if (method === 'GET') {
      const doc: unknown =
        typeof this.observations === 'function'
          ? (this.observations as () => unknown)()
          : this.observations;
      return { status: 200, body: JSON.stringify(doc) };
    }
    if (call === null) return { status: 401, body: '{}' };
    if (call.op === 'revoke') {
      this.grants.delete(call.grantId);
      const had = this.live.delete(call.grantId);
      return { status: had ? 204 : 404 };
    }
    const token = this.live.get(call.grantId) ?? randomBytes(24).toString('base64url');
    this.live.set(call.grantId, token);
    this.grants.set(call.grantId, call);
    return { status: 201, body: JSON.stringify({ credential: { TICKETS_TOKEN: token } }) };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}
