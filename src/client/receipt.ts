import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { ReceiptClaims } from '../redemption/receipt.js';
import { CountersignClientError } from './errors.js';

/** The `typ` header of a receipt; a warrant (`warrant+jwt`) is refused as one. */
export const RECEIPT_TYP = 'receipt+jwt';
/** The server refuses longer tokens; so does the client, before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;
/** An unknown kid refetches the JWKS at most this often, so junk cannot drive fetches. */
export const JWKS_REFETCH_INTERVAL_MS = 60_000;

type KeySet = ReturnType<typeof createLocalJWKSet>;

const invalid = (reason: string, cause?: unknown): CountersignClientError =>
  new CountersignClientError('RECEIPT_INVALID', `the receipt does not verify: ${reason}`, {
    cause,
  });

const isInteger = (v: unknown): v is number => Number.isSafeInteger(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The claims every receipt carries, checked for their shape: the signature vouches
 * for the server having written them, this for the caller's code reading them safely.
 */
function receiptClaims(p: Record<string, unknown>): ReceiptClaims {
  const { action, executor_identity: proof } = p;
  const ok =
    isText(p.iss) &&
    isText(p.jti) &&
    isInteger(p.iat) &&
    isText(p.warrant_id) &&
    isText(p.request_id) &&
    isText(p.sub) &&
    isInteger(p.use) &&
    isInteger(p.max_uses) &&
    p.use >= 1 &&
    p.max_uses >= 1 &&
    isText(p.executor) &&
    isObject(action) &&
    isText(action.resource) &&
    isText(action.permission) &&
    isText(action.environment) &&
    isObject(proof);
  if (!ok) throw invalid('its claims are not a receipt');
  return p as unknown as ReceiptClaims;
}

/** Verifies against one key set; an unknown kid is reported with the jose error as cause. */
async function verifyWith(jws: string, keys: KeySet): Promise<ReceiptClaims> {
  if (typeof jws !== 'string' || jws.length > MAX_TOKEN_LENGTH) throw invalid('not a compact JWS');
  try {
    const { payload } = await jwtVerify(jws, keys, {
      algorithms: ['EdDSA'],
      typ: RECEIPT_TYP,
    });
    return receiptClaims(payload);
  } catch (e) {
    if (e instanceof CountersignClientError) throw e;
    // jose's codes name the failing check and never echo the token.
    throw invalid(e instanceof errors.JOSEError ? e.code : 'not a compact JWS', e);
  }
}

const unknownKey = (e: unknown): boolean =>
  e instanceof CountersignClientError && e.cause instanceof errors.JWKSNoMatchingKey;

function keySet(jwks: JSONWebKeySet): KeySet {
  try {
    return createLocalJWKSet(jwks);
  } catch (e) {
    throw invalid('the JWKS is not a key set', e);
  }
}

/**
 * Verifies a receipt offline: its Ed25519 signature by a key of `jwks` (the server's
 * `/.well-known/jwks.json`, pinned) and its `typ`. Resolves to its claims; rejects
 * with {@link CountersignClientError} code `RECEIPT_INVALID`. A key the server has
 * revoked since `jwks` was taken still verifies: pin a fresh JWKS to see revocations.
 *
 * @example
 * ```ts
 * const claims = await verifyReceipt(receipt, { jwks: pinnedJwks });
 * console.log(claims.warrant_id, claims.use, claims.action.target);
 * ```
 */
export function verifyReceipt(jws: string, o: { jwks: JSONWebKeySet }): Promise<ReceiptClaims> {
  return verifyWith(jws, keySet(o.jwks));
}

/**
 * The client's JWKS: fetched on first use and kept. A receipt signed by a kid the
 * cache does not know (the server rotated its key) refetches it once, at most once a
 * {@link JWKS_REFETCH_INTERVAL_MS}, and is verified again.
 */
export class JwksCache {
  #keys: Promise<KeySet> | null = null;
  #refetchedAt = -Infinity;

  constructor(
    private readonly load: () => Promise<JSONWebKeySet>,
    private readonly now: () => number = () => Date.now(),
  ) {}

  #fetch(): Promise<KeySet> {
    const keys = this.load().then(keySet);
    // A failed fetch is not kept: the next verification tries again.
    void keys.catch(() => {
      if (this.#keys === keys) this.#keys = null;
    });
    this.#keys = keys;
    return keys;
  }

  async verify(jws: string): Promise<ReceiptClaims> {
    try {
      return await verifyWith(jws, await (this.#keys ?? this.#fetch()));
    } catch (e) {
      if (!unknownKey(e) || this.now() - this.#refetchedAt < JWKS_REFETCH_INTERVAL_MS) throw e;
      this.#refetchedAt = this.now();
      return verifyWith(jws, await this.#fetch());
    }
  }
}
