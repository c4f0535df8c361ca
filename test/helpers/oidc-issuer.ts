import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
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

/**
 * A real OIDC issuer on a random loopback port: `/.well-known/openid-configuration` and
 * `/jwks`, RS256 and ES256 keys, rotation, and counters of how often each was fetched.
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
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
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
