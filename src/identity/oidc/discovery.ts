import { urlProblem, type TrustedIssuer } from './config.js';
import { tokenError } from './errors.js';
import { readCapped } from '../../core/http-read.js';

/** Documents larger than this are refused rather than buffered. */
export const MAX_DISCOVERY_BYTES = 64 * 1024;

/** The discovery document's URL: the issuer, minus a trailing `/`, plus the well-known path. */
export function discoveryUrl(issuer: string): string {
  // OpenID Connect Discovery 1.0 §4: "remove any terminating / and append
  // /.well-known/openid-configuration".
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

function failed(issuer: TrustedIssuer, reason: string, message: string, cause?: unknown): Error {
  return tokenError(
    'ISSUER_DISCOVERY_FAILED',
    `discovery for issuer ${issuer.name} failed: ${message}`,
    { issuerName: issuer.name, reason },
    cause,
  );
}

/**
 * Fetches the issuer's OpenID Provider Metadata (OIDC Discovery §3), as a JSON object.
 *
 * The document's `issuer` must equal the configured issuer exactly (OIDC Discovery
 * §4.3): otherwise a compromised or misrouted well-known endpoint could point us at
 * keys or endpoints of its choosing. Redirects are not followed, as jose does for the JWKS.
 */
export async function providerMetadata(
  issuer: TrustedIssuer,
  timeoutMs: number,
): Promise<Readonly<Record<string, unknown>>> {
  let res: Response;
  try {
    res = await fetch(discoveryUrl(issuer.issuer), {
      method: 'GET',
      redirect: 'manual',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw failed(issuer, 'unreachable', 'the discovery document could not be fetched', cause);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw failed(issuer, 'status', `the discovery endpoint answered ${res.status}`);
  }
  let text: string | null;
  try {
    text = await readCapped(res, MAX_DISCOVERY_BYTES);
  } catch (cause) {
    throw failed(issuer, 'unreachable', 'the discovery document could not be read', cause);
  }
  if (text === null) throw failed(issuer, 'too_large', 'the discovery document is too large');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw failed(issuer, 'not_json', 'the discovery document is not JSON', cause);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw failed(issuer, 'not_json', 'the discovery document is not a JSON object');
  }
  const meta = doc as Record<string, unknown>;
  if (meta['issuer'] !== issuer.issuer) {
    throw failed(issuer, 'issuer_mismatch', 'the discovery document names a different issuer');
  }
  return meta;
}

/** The endpoint `name` of the metadata, refused unless it is an acceptable URL. */
export function endpointOf(
  issuer: TrustedIssuer,
  meta: Readonly<Record<string, unknown>>,
  name: string,
): URL {
  const value = meta[name];
  if (typeof value !== 'string' || urlProblem(value, false) !== null) {
    throw failed(issuer, `${name}_invalid`, `${name} is missing or not an acceptable URL`);
  }
  return new URL(value);
}

/** Fetches the issuer's metadata and returns its `jwks_uri`. */
export async function discoverJwksUri(issuer: TrustedIssuer, timeoutMs: number): Promise<URL> {
  return endpointOf(issuer, await providerMetadata(issuer, timeoutMs), 'jwks_uri');
}
