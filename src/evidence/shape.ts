/**
 * @internal Strict shape validation of an untrusted evidence bundle: exact fields,
 * bounded sizes, canonical encodings. Returns a reason instead of throwing.
 */
import type { JWK } from 'jose';
import { REQUEST_ID_PATTERN } from '../core/ids.js';
import { decodeBase64Strict } from '../core/base64.js';
import { HASH_SIZE } from '../log/hash.js';
import type { EvidenceBundle } from './bundle.js';
import { EVIDENCE_MEDIA_TYPE } from './bundle.js';
import { envelopePayload } from './dsse.js';
import type { JsonObject } from './read.js';
import { decodeBase64UrlStrict } from '../core/base64.js';
import { hasExactKeys, isObject, parseJson } from './read.js';

/** Upper bounds that keep verification of a hostile bundle cheap. */
export const BUNDLE_LIMITS = {
  /** Bytes (or UTF-16 units) of the whole bundle. */
  bundle: 32 * 1024 * 1024,
  entries: 10_000,
  leaf: 1024 * 1024,
  /** An audit path of a tree below 2^63 leaves has at most 63 hashes. */
  proof: 63,
  checkpoint: 64 * 1024,
  logVerifierKey: 1024,
  /** Retired keys stay in a server's JWKS: a key a day for over 25 years. */
  keys: 10_000,
  kid: 256,
  warrant: 16_384,
} as const;

export type Shaped<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const no = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** A compact JWS: three base64url segments (RFC 7515 §7.1). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

const JWK_REQUIRED = ['kty', 'crv', 'x', 'kid'] as const;
const JWK_OPTIONAL = ['alg', 'use'] as const;

/**
 * An Ed25519 public JWK (RFC 8037 §2) with a `kid`, and nothing else: no private
 * members, no members a verifier would have to interpret.
 */
function isEd25519Jwk(value: unknown): value is JWK {
  if (!isObject(value) || !hasExactKeys(value, JWK_REQUIRED, JWK_OPTIONAL)) return false;
  const { kty, crv, x, kid, alg, use } = value;
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string') return false;
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > BUNDLE_LIMITS.kid) return false;
  if (alg !== undefined && alg !== 'EdDSA' && alg !== 'Ed25519') return false;
  if (use !== undefined && use !== 'sig') return false;
  return decodeBase64UrlStrict(x)?.length === 32;
}

/** A JWKS of Ed25519 public keys with distinct `kid`s. */
export function shapeJwks(value: unknown): Shaped<{ keys: JWK[] }> {
  if (!isObject(value) || !hasExactKeys(value, ['keys'])) return no('jwks must be { keys }');
  const { keys } = value;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > BUNDLE_LIMITS.keys) {
    return no(`jwks.keys must hold 1 to ${BUNDLE_LIMITS.keys} keys`);
  }
  if (!keys.every(isEd25519Jwk)) return no('jwks holds a key that is not an Ed25519 public JWK');
  if (new Set(keys.map((k) => k.kid)).size !== keys.length) return no('jwks repeats a kid');
  return { ok: true, value: { keys } };
}

function isEntry(value: unknown): boolean {
  if (!isObject(value) || !hasExactKeys(value, ['index', 'leaf', 'proof'])) return false;
  const { index, leaf, proof } = value;
  if (!Number.isSafeInteger(index) || (index as number) < 0) return false;
  if (typeof leaf !== 'string' || leaf.length > BUNDLE_LIMITS.leaf) return false;
  return (
    Array.isArray(proof) &&
    proof.length <= BUNDLE_LIMITS.proof &&
    proof.every((h) => typeof h === 'string' && decodeBase64Strict(h)?.length === HASH_SIZE)
  );
}

/** A compact JWS whose segments are canonical base64url (so no two strings share a signature). */
function isCompactJws(value: string): boolean {
  return (
    value.length <= BUNDLE_LIMITS.warrant &&
    COMPACT_JWS.test(value) &&
    value.split('.').every((s) => decodeBase64UrlStrict(s) !== undefined)
  );
}

const BUNDLE_KEYS = [
  'mediaType',
  'requestId',
  'checkpoint',
  'logVerifierKey',
  'jwks',
  'warrant',
  'entries',
  'attestation',
] as const;

function shapeObject(b: JsonObject): Shaped<EvidenceBundle> {
  if (!hasExactKeys(b, BUNDLE_KEYS)) return no('bundle fields are not exactly those of v1');
  if (b.mediaType !== EVIDENCE_MEDIA_TYPE) return no('mediaType is not a v1 evidence bundle');
  if (typeof b.requestId !== 'string' || !REQUEST_ID_PATTERN.test(b.requestId)) {
    return no('requestId is not sha256:<hex>');
  }
  if (typeof b.checkpoint !== 'string' || b.checkpoint.length > BUNDLE_LIMITS.checkpoint) {
    return no('checkpoint must be a signed note');
  }
  if (
    typeof b.logVerifierKey !== 'string' ||
    b.logVerifierKey.length > BUNDLE_LIMITS.logVerifierKey
  ) {
    return no('logVerifierKey must be a verifier key');
  }
  const jwks = shapeJwks(b.jwks);
  if (!jwks.ok) return jwks;
  if (b.warrant !== null && (typeof b.warrant !== 'string' || !isCompactJws(b.warrant))) {
    return no('warrant must be null or a compact JWS');
  }
  const { entries } = b;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > BUNDLE_LIMITS.entries) {
    return no(`entries must hold 1 to ${BUNDLE_LIMITS.entries} entries`);
  }
  const bad = entries.findIndex((e) => !isEntry(e));
  if (bad >= 0)
    return no(`entries[${bad}] is not { index, leaf, proof } with 32-byte base64 hashes`);
  if (envelopePayload(b.attestation) === undefined) return no('attestation is not a DSSE envelope');
  return { ok: true, value: b as unknown as EvidenceBundle };
}

/**
 * Reads an untrusted bundle: UTF-8 (fatal on invalid bytes), strict JSON (duplicate
 * keys refused, depth bounded), then the exact v1 shape. Never throws.
 */
export function shapeBundle(input: unknown): Shaped<EvidenceBundle> {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof Uint8Array) {
    if (input.length > BUNDLE_LIMITS.bundle) return no('bundle is too large');
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch {
      return no('bundle is not valid UTF-8');
    }
  } else return no('bundle must be text or bytes');
  if (text.length > BUNDLE_LIMITS.bundle) return no('bundle is too large');
  const value = parseJson(text);
  if (value === undefined) return no('bundle is not strict JSON (syntax, duplicate keys or depth)');
  if (!isObject(value)) return no('bundle must be a JSON object');
  return shapeObject(value);
}
