import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { decodeBase64UrlStrict } from '../core/base64.js';
import { canonicalJson } from '../core/canonical.js';
import { parseStrictJson } from '../core/json.js';

/**
 * Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037), for countersign's own
 * tokens only: warrants and receipts. Signing and verifying go straight to node:crypto
 * with cached KeyObjects; jose's WebCrypto path re-imports the key on every call,
 * which dominated the redemption and evidence profiles. Any JOSE library still
 * verifies these tokens (the tests check it with jose).
 */
export interface JwsHeader {
  readonly alg: 'EdDSA';
  readonly kid: string;
  readonly typ: string;
}

const b64u = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

// The payload is RFC 8785 canonical JSON, so a token is a function of its claims alone:
// signed again from claims read back out of the log (an idempotent retry's receipt, a
// warrant re-signed after a crash), it is the same bytes, whatever order they came in.
const signingInput = (header: JwsHeader, payload: object): string =>
  `${b64u(JSON.stringify(header))}.${b64u(canonicalJson(payload))}`;

export function signCompactJws(header: JwsHeader, payload: object, key: KeyObject): string {
  const input = signingInput(header, payload);
  return `${input}.${b64u(edSign(null, Buffer.from(input, 'ascii'), key))}`;
}

/**
 * {@link signCompactJws} with the Ed25519 signature computed on libuv's thread pool.
 * Ed25519 is deterministic: both give the same token for the same header, payload and key.
 */
export function signCompactJwsOffThread(
  header: JwsHeader,
  payload: object,
  key: KeyObject,
): Promise<string> {
  const input = signingInput(header, payload);
  return new Promise((ok, fail) => {
    edSign(null, Buffer.from(input, 'ascii'), key, (error, signature) => {
      if (error) fail(error);
      else ok(`${input}.${b64u(signature)}`);
    });
  });
}

export interface VerifiedCompactJws {
  readonly kid: string;
  readonly payload: Buffer;
}

interface ParsedCompactJws extends VerifiedCompactJws {
  readonly signingInput: Buffer;
  readonly signature: Buffer;
  readonly key: KeyObject;
}

/**
 * Splits and checks an EdDSA compact JWS whose header names `typ` and a `kid` that
 * `resolve` knows, short of the signature check. Headers with duplicate keys, other
 * algorithms or a `crit` member are refused.
 */
function parseCompactJws(
  token: string,
  typ: string,
  resolve: (kid: string) => KeyObject | undefined,
): ParsedCompactJws | null {
  if (token.length > 16_384) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts as [string, string, string];
  const headerBytes = decodeBase64UrlStrict(h);
  const payload = decodeBase64UrlStrict(p);
  const signature = decodeBase64UrlStrict(s);
  if (!headerBytes || !payload || signature?.length !== 64) return null;
  let header: unknown;
  try {
    header = parseStrictJson(headerBytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return null;
  const { alg, kid, typ: t, crit } = header as Record<string, unknown>;
  if (alg !== 'EdDSA' || t !== typ || crit !== undefined || typeof kid !== 'string') return null;
  const key = resolve(kid);
  if (!key) return null;
  return { kid, payload, signingInput: Buffer.from(`${h}.${p}`, 'ascii'), signature, key };
}

/** Verifies a compact JWS (see {@link parseCompactJws}); null for anything that does not verify. */
export function verifyCompactJws(
  token: string,
  typ: string,
  resolve: (kid: string) => KeyObject | undefined,
): VerifiedCompactJws | null {
  const jws = parseCompactJws(token, typ, resolve);
  if (!jws) return null;
  try {
    return edVerify(null, jws.signingInput, jws.key, jws.signature)
      ? { kid: jws.kid, payload: jws.payload }
      : null;
  } catch {
    return null;
  }
}

/**
 * {@link verifyCompactJws} with the Ed25519 check on libuv's thread pool, so that the
 * server's event loop keeps parsing requests and running transactions meanwhile.
 */
export function verifyCompactJwsOffThread(
  token: string,
  typ: string,
  resolve: (kid: string) => KeyObject | undefined,
): Promise<VerifiedCompactJws | null> {
  const jws = parseCompactJws(token, typ, resolve);
  if (!jws) return Promise.resolve(null);
  return new Promise((ok) => {
    edVerify(null, jws.signingInput, jws.key, jws.signature, (error, valid) => {
      ok(!error && valid ? { kid: jws.kid, payload: jws.payload } : null);
    });
  });
}
