import { createHash, randomBytes } from 'node:crypto';
import { readCapped } from '../../core/http-read.js';
import { CountersignError } from '../../core/errors.js';
import type { TrustedIssuer } from './config.js';
import { endpointOf, providerMetadata } from './discovery.js';
import { tokenError } from './errors.js';

/** Token endpoint answers larger than this are refused rather than buffered. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;

export type SignInErrorCode = 'SIGN_IN_FAILED';

/** Where a person signs in at an issuer, and where the code is exchanged. */
export interface LoginEndpoints {
  readonly authorization: URL;
  readonly token: URL;
  /** `authorization_response_iss_parameter_supported` (RFC 9207 §3): `iss` is then required. */
  readonly issInResponse: boolean;
}

/** The secrets of one authorization request, kept on the server until its callback. */
export interface LoginSecrets {
  readonly state: string;
  readonly nonce: string;
  /** RFC 7636 §4.1: 32 random bytes, base64url (43 characters). */
  readonly verifier: string;
}

const random = () => randomBytes(32).toString('base64url');

export function newLoginSecrets(): LoginSecrets {
  return { state: random(), nonce: random(), verifier: random() };
}

/** RFC 7636 §4.2: `code_challenge = BASE64URL(SHA256(ASCII(code_verifier)))`. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** The issuer's authorization and token endpoints, from its discovery document. */
export async function discoverLoginEndpoints(
  issuer: TrustedIssuer,
  timeoutMs: number,
): Promise<LoginEndpoints> {
  const meta = await providerMetadata(issuer, timeoutMs);
  return {
    authorization: endpointOf(issuer, meta, 'authorization_endpoint'),
    token: endpointOf(issuer, meta, 'token_endpoint'),
    issInResponse: meta['authorization_response_iss_parameter_supported'] === true,
  };
}

/**
 * {@link discoverLoginEndpoints} kept `ttlMs` per issuer and shared by concurrent sign-ins:
 * every `GET /auth/login` is unauthenticated, and must not cost the issuer a request each.
 * A failed discovery is not kept.
 */
export function cachedLoginEndpoints(
  now: () => number,
  ttlMs = 5 * 60_000,
): (issuer: TrustedIssuer, timeoutMs: number) => Promise<LoginEndpoints> {
  const kept = new Map<
    string,
    { readonly until: number; readonly endpoints: Promise<LoginEndpoints> }
  >();
  return (issuer, timeoutMs) => {
    const t = now();
    const hit = kept.get(issuer.issuer);
    if (hit !== undefined && hit.until > t) return hit.endpoints;
    const endpoints = discoverLoginEndpoints(issuer, timeoutMs);
    kept.set(issuer.issuer, { until: t + ttlMs, endpoints });
    endpoints.catch(() => {
      if (kept.get(issuer.issuer)?.endpoints === endpoints) kept.delete(issuer.issuer);
    });
    return endpoints;
  };
}

export interface AuthorizationParams {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly secrets: LoginSecrets;
  /** Ask for a new sign-in (`prompt=login`, `max_age=0`; OIDC Core §3.1.2.1). */
  readonly fresh: boolean;
}

/** The authorization request (OIDC Core §3.1.2.1) with PKCE S256 (RFC 7636 §4.3). */
export function authorizationUrl(endpoint: URL, p: AuthorizationParams): URL {
  const url = new URL(endpoint);
  const q = url.searchParams;
  q.set('response_type', 'code');
  q.set('client_id', p.clientId);
  q.set('redirect_uri', p.redirectUri);
  q.set('scope', 'openid profile email');
  q.set('state', p.secrets.state);
  q.set('nonce', p.secrets.nonce);
  q.set('code_challenge', pkceChallenge(p.secrets.verifier));
  q.set('code_challenge_method', 'S256');
  if (p.fresh) {
    q.set('prompt', 'login');
    q.set('max_age', '0');
  }
  return url;
}

/**
 * RFC 9207 §2.4: an authorization response's `iss` must equal the issuer the request went
 * to, by simple string comparison, and an issuer that advertises the parameter must send
 * it. Checked before the code goes anywhere: a code another issuer minted (a mix-up,
 * RFC 9700 §4.4) would otherwise be handed, with the PKCE verifier, to this issuer.
 */
export function assertResponseIssuer(
  issuer: TrustedIssuer,
  endpoints: LoginEndpoints,
  iss: string | undefined,
): void {
  if (iss === undefined ? endpoints.issInResponse : iss !== issuer.issuer) {
    throw refused(
      issuer,
      iss === undefined
        ? 'the authorization response lacks the iss the issuer advertises'
        : 'the authorization response names another issuer (iss)',
    );
  }
}

export interface CodeExchange {
  readonly code: string;
  readonly clientId: string;
  readonly clientSecret: string | null;
  readonly redirectUri: string;
  readonly verifier: string;
}

function refused(issuer: TrustedIssuer, message: string, cause?: unknown) {
  return new CountersignError<SignInErrorCode>(
    'SIGN_IN_FAILED',
    `sign-in at ${issuer.name} failed: ${message}`,
    { details: { issuerName: issuer.name }, ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * Exchanges an authorization code for the ID token (OIDC Core §3.1.3.1), sending the
 * PKCE verifier; a confidential client authenticates with HTTP Basic
 * (`client_secret_basic`, RFC 6749 §2.3.1). Returns the ID token unverified: the
 * caller verifies it like any other, then checks its nonce.
 */
export async function exchangeCode(
  issuer: TrustedIssuer,
  tokenEndpoint: URL,
  x: CodeExchange,
  timeoutMs: number,
): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: x.code,
    redirect_uri: x.redirectUri,
    code_verifier: x.verifier,
    client_id: x.clientId,
  });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (x.clientSecret !== null) {
    // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
    const pair = `${encodeURIComponent(x.clientId)}:${encodeURIComponent(x.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  }
  let res: Response;
  try {
    res = await fetch(tokenEndpoint, {
      method: 'POST',
      redirect: 'manual',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw tokenError(
      'ISSUER_DISCOVERY_FAILED',
      `the token endpoint of ${issuer.name} could not be reached`,
      { issuerName: issuer.name, reason: 'token_endpoint_unreachable' },
      cause,
    );
  }
  const text = await readCapped(res, MAX_TOKEN_RESPONSE_BYTES).catch(() => null);
  if (res.status !== 200 || text === null) {
    // The answer may name the error (`invalid_grant`); it never reaches the browser.
    throw refused(issuer, `the token endpoint answered ${res.status}`);
  }
  let idToken: unknown;
  try {
    idToken = (JSON.parse(text) as { id_token?: unknown }).id_token;
  } catch (cause) {
    throw refused(issuer, 'the token endpoint answered something other than JSON', cause);
  }
  if (typeof idToken !== 'string') throw refused(issuer, 'the answer holds no ID token');
  return idToken;
}
