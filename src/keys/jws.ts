import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { decodeBase64UrlStrict } from '../core/base64.js';
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

export function signCompactJws(header: JwsHeader, payload: object, key: KeyObject): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(edSign(null, Buffer.from(input, 'ascii'), key))}`;
}

export interface VerifiedCompactJws {
  readonly kid: string;
  readonly payload: Buffer;
}

/**
 * Verifies an EdDSA compact JWS whose header names `typ` and a `kid` that `resolve`
 * knows. Headers with duplicate keys, other algorithms or a `crit` member are refused.
 * Returns null for anything that does not verify.
 */
export function verifyCompactJws(
  token: string,
  typ: string,
  resolve: (kid: string) => KeyObject | undefined,
): VerifiedCompactJws | null {
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
  try {
    return edVerify(null, Buffer.from(`${h}.${p}`, 'ascii'), key, signature)
      ? { kid, payload }
      : null;
  } catch {
    return null;
  }
}
