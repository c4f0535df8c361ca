import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  base64url,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

export type TestAlg = 'RS256' | 'ES256';

interface TestKey {
  readonly kid: string;
  readonly alg: TestAlg;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface TestSignOptions {
  readonly alg?: TestAlg;
  /** The key to sign with; a kid this issuer does not hold is put in the header as is. */
  readonly kid?: string;
  readonly typ?: string;
  /** Extra protected-header parameters. */
  readonly header?: Record<string, unknown>;
}

export interface TestIssuerOptions {
  /** Path under the origin, e.g. `/realms/corp`. Default none. */
  readonly path?: string;
  /** Prefix of generated kids; give two issuers the same one to make their kids collide. */
  readonly kidPrefix?: string;
}

/** The person the authorization endpoint signs in without asking. */
export interface TestUser {
  readonly sub: string;
  readonly groups?: readonly string[];
  readonly email?: string;
}

/** An authorization code issued and not yet redeemed. */
interface IssuedCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge: string;
  readonly nonce: string | null;
  readonly authTime: number;
  readonly user: TestUser;
}

/** What the authorization and token endpoints saw, for tests to assert on. */
export interface LoginTrace {
  readonly authorizeParams: Array<Record<string, string>>;
  readonly tokenForms: Array<Record<string, string>>;
  readonly tokenAuthorizations: Array<string | undefined>;
}

/**
 * A real OIDC issuer on a random loopback port: `/.well-known/openid-configuration` and
 * `/jwks`, RS256 and ES256 keys, rotation, and counters of how often each was fetched.
 * It also signs people in: `/authorize` approves {@link TestIssuer.user} at once
 * (a new `auth_time` when asked for `prompt=login` or `max_age=0`, else the last one)
 * and `/token` redeems each code once, checking its PKCE verifier (RFC 7636 §4.6).
 * Like a production IdP it can hold the client to its registered redirect URIs
 * ({@link TestIssuer.redirectUris}) and name itself in its answers (RFC 9207).
 */
export class TestIssuer {
  readonly #keys = new Map<string, TestKey>();
  readonly #current = new Map<TestAlg, string>();
  readonly #kidPrefix: string;
  #serial = 0;
  /** What the discovery document says the issuer is; tests change it to lie. */
  discoveryIssuer: string;
  jwksFetches = 0;
  discoveryFetches = 0;
  /** Who `/authorize` signs in; null answers `error=access_denied`. */
  user: TestUser | null = { sub: 'dana', groups: ['sre'] };
  /** The `auth_time` of the user's last sign-in; a test moves it back to make it stale. */
  lastAuthTime: number | null = null;
  /** When set, `/token` requires this client secret by HTTP Basic. */
  clientSecret: string | null = null;
  /** A test sets this to make `/token` sign a different nonce than the one asked for. */
  nonceOverride: string | null = null;
  /**
   * The client's registered redirect URIs, matched exactly or, ending in `*`, by prefix (as
   * Keycloak's wildcards). `/authorize` answers 400 to any other and never redirects to it
   * (RFC 6749 §4.1.2.1). Null accepts any.
   */
  redirectUris: readonly string[] | null = null;
  /**
   * RFC 9207: put `iss` in every authorization response and advertise
   * `authorization_response_iss_parameter_supported` in the discovery document.
   */
  issInResponse = false;
  readonly trace: LoginTrace = { authorizeParams: [], tokenForms: [], tokenAuthorizations: [] };
  readonly #codes = new Map<string, IssuedCode>();

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    kidPrefix: string,
  ) {
    this.discoveryIssuer = issuer;
    this.#kidPrefix = kidPrefix;
  }

  static async start(opts: TestIssuerOptions = {}): Promise<TestIssuer> {
    const path = opts.path ?? '';
    const ref: { self?: TestIssuer } = {};
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const send = (body: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (
        self &&
        req.method === 'GET' &&
        url.pathname === `${path}/.well-known/openid-configuration`
      ) {
        self.discoveryFetches++;
        send({
          issuer: self.discoveryIssuer,
          jwks_uri: self.jwksUri,
          authorization_endpoint: `${self.issuer}/authorize`,
          token_endpoint: `${self.issuer}/token`,
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          ...(self.issInResponse ? { authorization_response_iss_parameter_supported: true } : {}),
        });
      } else if (self && req.method === 'GET' && url.pathname === `${path}/authorize`) {
        self.#authorize(url, res);
      } else if (self && req.method === 'POST' && url.pathname === `${path}/token`) {
        let form = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (form += c));
        req.on('end', () => {
          void self.#token(new URLSearchParams(form), req.headers.authorization, res);
        });
      } else if (self && req.method === 'GET' && url.pathname === `${path}/jwks`) {
        self.jwksFetches++;
        send({ keys: [...self.#keys.values()].map((k) => k.publicJwk) });
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const self = new TestIssuer(server, `http://127.0.0.1:${port}${path}`, opts.kidPrefix ?? 'key');
    ref.self = self;
    await self.rotate('RS256');
    await self.rotate('ES256');
    return self;
  }

  #authorize(url: URL, res: ServerResponse): void {
    const q = Object.fromEntries(url.searchParams);
    this.trace.authorizeParams.push(q);
    const redirectUri = q['redirect_uri'] ?? '';
    const registered = (r: string) =>
      r.endsWith('*') ? redirectUri.startsWith(r.slice(0, -1)) : r === redirectUri;
    if (this.redirectUris !== null && !this.redirectUris.some(registered)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid redirect_uri');
      return;
    }
    const back = new URL(redirectUri || 'http://127.0.0.1/');
    if (q['state'] !== undefined) back.searchParams.set('state', q['state']);
    if (this.issInResponse) back.searchParams.set('iss', this.issuer);
    const fail = (error: string) => {
      back.searchParams.set('error', error);
      res.writeHead(302, { location: back.href }).end();
    };
    if (q['response_type'] !== 'code' || q['code_challenge_method'] !== 'S256') {
      return fail('invalid_request');
    }
    if (!this.user) return fail('access_denied');
    const now = Math.floor(Date.now() / 1000);
    // OIDC Core §3.1.2.1: prompt=login and max_age=0 both ask for a new authentication.
    if (this.lastAuthTime === null || q['prompt'] === 'login' || q['max_age'] === '0') {
      this.lastAuthTime = now;
    }
    const code = randomBytes(16).toString('base64url');
    this.#codes.set(code, {
      clientId: q['client_id'] ?? '',
      redirectUri,
      challenge: q['code_challenge'] ?? '',
      nonce: q['nonce'] ?? null,
      authTime: this.lastAuthTime,
      user: this.user,
    });
    back.searchParams.set('code', code);
    res.writeHead(302, { location: back.href }).end();
  }

  async #token(
    form: URLSearchParams,
    authorization: string | undefined,
    res: ServerResponse,
  ): Promise<void> {
    const f = Object.fromEntries(form);
    this.trace.tokenForms.push(f);
    this.trace.tokenAuthorizations.push(authorization);
    const refuse = (error: string) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error }));
    };
    const issued = this.#codes.get(f['code'] ?? '');
    // A code is redeemed once (RFC 6749 §4.1.2).
    this.#codes.delete(f['code'] ?? '');
    if (f['grant_type'] !== 'authorization_code' || !issued) return refuse('invalid_grant');
    if (f['redirect_uri'] !== issued.redirectUri || f['client_id'] !== issued.clientId) {
      return refuse('invalid_grant');
    }
    const challenge = createHash('sha256')
      .update(f['code_verifier'] ?? '', 'ascii')
      .digest('base64url');
    if (challenge !== issued.challenge) return refuse('invalid_grant');
    if (this.clientSecret !== null) {
      const expected = `Basic ${Buffer.from(`${issued.clientId}:${this.clientSecret}`).toString('base64')}`;
      if (authorization !== expected) return refuse('invalid_client');
    }
    const idToken = await this.sign({
      ...timeClaims(new Date()),
      aud: issued.clientId,
      sub: issued.user.sub,
      ...(issued.user.groups ? { groups: issued.user.groups } : {}),
      ...(issued.user.email ? { email: issued.user.email } : {}),
      auth_time: issued.authTime,
      ...(this.nonceOverride !== null
        ? { nonce: this.nonceOverride }
        : issued.nonce === null
          ? {}
          : { nonce: issued.nonce }),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ access_token: 'opaque', token_type: 'Bearer', id_token: idToken }));
  }

  get jwksUri(): string {
    return `${this.issuer}/jwks`;
  }

  get kids(): string[] {
    return [...this.#keys.keys()];
  }

  /** The kid new tokens of `alg` are signed with. */
  currentKid(alg: TestAlg = 'RS256'): string {
    return this.#current.get(alg)!;
  }

  /** Adds a new key for `alg` and makes it current; older keys stay published. */
  async rotate(alg: TestAlg = 'RS256'): Promise<string> {
    const kid = `${this.#kidPrefix}-${alg.toLowerCase()}-${++this.#serial}`;
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.#keys.set(kid, { kid, alg, privateKey, publicKey, publicJwk });
    this.#current.set(alg, kid);
    return kid;
  }

  /** Stops publishing `kid`. */
  retire(kid: string): void {
    this.#keys.delete(kid);
  }

  publicJwk(kid: string = this.currentKid('RS256')): JWK {
    return this.#keys.get(kid)!.publicJwk;
  }

  async publicPem(kid: string = this.currentKid('RS256')): Promise<string> {
    return exportSPKI(this.#keys.get(kid)!.publicKey);
  }

  /** Signs `claims` (with `iss` defaulting to this issuer) as a compact JWS. */
  async sign(claims: Record<string, unknown>, opts: TestSignOptions = {}): Promise<string> {
    const alg = opts.alg ?? 'RS256';
    const own = opts.kid === undefined ? undefined : this.#keys.get(opts.kid);
    const key = own ?? this.#keys.get(this.currentKid(alg))!;
    return new SignJWT({ iss: this.issuer, ...claims })
      .setProtectedHeader({
        ...opts.header,
        alg: key.alg,
        kid: opts.kid ?? key.kid,
        ...(opts.typ === undefined ? {} : { typ: opts.typ }),
      })
      .sign(key.privateKey);
  }

  /** A GitHub-Actions-style workload token (see {@link githubActionsClaims}). */
  mintGithubActions(now: Date, audience: string, job: GithubJob = {}, opts: TestSignOptions = {}) {
    return this.sign(githubActionsClaims(now, audience, job), opts);
  }

  /** A Kubernetes projected service-account token (see {@link kubernetesClaims}). */
  mintKubernetes(now: Date, audience: string, sa: KubernetesSa = {}, opts: TestSignOptions = {}) {
    return this.sign(kubernetesClaims(now, audience, sa), opts);
  }

  /** A SPIFFE JWT-SVID (see {@link spiffeClaims}). */
  mintSpiffe(now: Date, audience: string, spiffeId: string, opts: TestSignOptions = {}) {
    return this.sign(spiffeClaims(now, audience, spiffeId), { alg: 'ES256', ...opts });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const b64json = (v: unknown) => base64url.encode(JSON.stringify(v));

/** An unsigned token: `alg: none` (or any header) with an empty signature. */
export function craftUnsigned(header: Record<string, unknown>, claims: JWTPayload): string {
  return `${b64json(header)}.${b64json(claims)}.`;
}

/** A token MAC'd with `secret`, e.g. an issuer's public key bytes (key confusion). */
export function craftHmac(
  header: Record<string, unknown>,
  claims: JWTPayload,
  secret: string | Uint8Array,
): string {
  const input = `${b64json(header)}.${b64json(claims)}`;
  const mac = createHmac('sha256', secret).update(input).digest('base64url');
  return `${input}.${mac}`;
}

/** Standard time claims around `now`: issued now, valid for `ttl` seconds. */
export function timeClaims(now: Date, ttl = 300): { iat: number; nbf: number; exp: number } {
  const t = Math.floor(now.getTime() / 1000);
  return { iat: t, nbf: t, exp: t + ttl };
}

export interface GithubJob {
  readonly repository?: string;
  readonly environment?: string;
  readonly ref?: string;
  readonly workflow?: string;
}

/** Claims shaped like a GitHub Actions OIDC token for a deployment job. */
export function githubActionsClaims(now: Date, audience: string, job: GithubJob = {}): JWTPayload {
  const repository = job.repository ?? 'acme/deploy';
  const [owner] = repository.split('/');
  const ref = job.ref ?? 'refs/heads/main';
  const environment = job.environment ?? 'prod';
  const workflowRef = `${repository}/.github/workflows/${job.workflow ?? 'deploy.yml'}@${ref}`;
  return {
    ...timeClaims(now),
    jti: randomUUID(),
    aud: audience,
    sub: `repo:${repository}:environment:${environment}`,
    repository,
    repository_id: '123456',
    repository_owner: owner,
    repository_owner_id: '654321',
    ref,
    ref_type: 'branch',
    environment,
    workflow_ref: workflowRef,
    job_workflow_ref: workflowRef,
    run_id: '42',
    actor: 'octocat',
    event_name: 'push',
  };
}

export interface KubernetesSa {
  readonly namespace?: string;
  readonly name?: string;
}

/** Claims shaped like a Kubernetes projected service-account token. */
export function kubernetesClaims(now: Date, audience: string, sa: KubernetesSa = {}): JWTPayload {
  const namespace = sa.namespace ?? 'payments';
  const name = sa.name ?? 'deployer';
  return {
    ...timeClaims(now, 600),
    jti: randomUUID(),
    aud: [audience],
    sub: `system:serviceaccount:${namespace}:${name}`,
    'kubernetes.io': {
      namespace,
      serviceaccount: { name, uid: '5f0c6a5e-0000-4000-8000-000000000001' },
      pod: { name: `${name}-7d4b9c`, uid: '5f0c6a5e-0000-4000-8000-000000000002' },
    },
  };
}

/** Claims shaped like a SPIFFE JWT-SVID. */
export function spiffeClaims(now: Date, audience: string, spiffeId: string): JWTPayload {
  return { ...timeClaims(now), jti: randomUUID(), aud: [audience], sub: spiffeId };
}
