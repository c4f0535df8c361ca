/**
 * Dead Simple Signing Envelope (DSSE) v1 with Ed25519 signatures.
 *
 * @see https://github.com/secure-systems-lab/dsse/blob/master/protocol.md
 * @see https://github.com/secure-systems-lab/dsse/blob/master/envelope.md
 */
import { verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64Strict } from '../core/base64.js';
import { hasExactKeys, isObject } from './read.js';

/** One signature of an envelope (DSSE envelope.md). Both fields are standard base64 or text. */
export interface DsseSignature {
  /** An unauthenticated hint naming the key; here, the `kid` of a JWKS key. */
  readonly keyid: string;
  /** Standard base64 (RFC 4648 §4) of the signature over the PAE. */
  readonly sig: string;
}

/** The JSON envelope (DSSE envelope.md). */
export interface DsseEnvelope {
  readonly payloadType: string;
  /** Standard base64 (RFC 4648 §4) of the payload bytes. */
  readonly payload: string;
  readonly signatures: readonly DsseSignature[];
}

/** A capability that signs bytes under one key (Ed25519 here). */
export interface DsseSigner {
  readonly keyid: string;
  sign(data: Uint8Array): Uint8Array;
}

const PAE_PREFIX = 'DSSEv1';
const MAX_SIGNATURES = 16;

/**
 * The Pre-Authentication Encoding (DSSE protocol.md §Signature definition):
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where `LEN(s)` is the ASCII
 * decimal byte length of `s` with no leading zeros. A string payload means its UTF-8 bytes.
 *
 * @example
 * ```ts
 * preAuthEncoding('http://example.com/HelloWorld', 'hello world').toString();
 * // 'DSSEv1 29 http://example.com/HelloWorld 11 hello world'
 * ```
 */
export function preAuthEncoding(payloadType: string, payload: Uint8Array | string): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([
    Buffer.from(`${PAE_PREFIX} ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${body.length} `, 'ascii'),
    body,
  ]);
}

/**
 * Signs `payload` into an envelope with one signature over its PAE
 * (DSSE protocol.md §Protocol, "Sign").
 *
 * @example
 * ```ts
 * const envelope = signEnvelope('application/vnd.in-toto+json', bytes, {
 *   keyid: kid,
 *   sign: (data) => sign(null, data, privateKey),
 * });
 * ```
 */
export function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signer: DsseSigner,
): DsseEnvelope {
  const sig = signer.sign(preAuthEncoding(payloadType, payload));
  return {
    payloadType,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid: signer.keyid, sig: Buffer.from(sig).toString('base64') }],
  };
}

/**
 * The payload bytes of a well-formed envelope, or `undefined` when the envelope is
 * malformed: unknown fields, no or too many signatures, or base64 that is not canonical
 * standard base64 (so no two encodings of one payload or signature both verify).
 */
export function envelopePayload(envelope: unknown): Buffer | undefined {
  if (!isObject(envelope) || !hasExactKeys(envelope, ['payloadType', 'payload', 'signatures'])) {
    return undefined;
  }
  const { payloadType, payload, signatures } = envelope;
  if (typeof payloadType !== 'string' || typeof payload !== 'string') return undefined;
  if (!Array.isArray(signatures) || signatures.length === 0) return undefined;
  if (signatures.length > MAX_SIGNATURES) return undefined;
  const wellFormed = signatures.every(
    (s) =>
      isObject(s) &&
      hasExactKeys(s, ['keyid', 'sig']) &&
      typeof s.keyid === 'string' &&
      typeof s.sig === 'string' &&
      decodeBase64Strict(s.sig) !== undefined,
  );
  return wellFormed ? decodeBase64Strict(payload) : undefined;
}

/**
 * Verifies an envelope (DSSE protocol.md §Protocol, "Verify"): true when the envelope is
 * well-formed and at least one signature whose `keyid` resolves to a key verifies over
 * the PAE. Signatures by unknown keys are ignored. Never throws.
 *
 * @example
 * ```ts
 * const ok = verifyEnvelope(envelope, (keyid) => trustedKeys.get(keyid));
 * ```
 */
export function verifyEnvelope(
  envelope: DsseEnvelope,
  resolveKey: (keyid: string) => KeyObject | undefined,
): boolean {
  try {
    const payload = envelopePayload(envelope);
    if (payload === undefined) return false;
    const pae = preAuthEncoding(envelope.payloadType, payload);
    return envelope.signatures.some((s) => {
      const key = resolveKey(s.keyid);
      const sig = decodeBase64Strict(s.sig);
      // Ed25519 only (RFC 8032): with a null digest, other key types would pick their own.
      if (key?.asymmetricKeyType !== 'ed25519' || sig === undefined) return false;
      return verify(null, pae, key, sig);
    });
  } catch {
    return false;
  }
}
