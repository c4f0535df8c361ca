/**
 * The receiver's side of the webhook connector: checks a grant or revoke call before
 * the receiver acts on it. The call is a DSSE envelope (DSSE protocol.md) over the
 * RFC 8785 canonical JSON of a {@link ConnectorCall}, signed by a key of the server's
 * `/.well-known/jwks.json`.
 */
import type { JWK } from 'jose';
import {
  CONNECTOR_CALL_PAYLOAD_TYPE,
  connectorCallKey,
  type ConnectorCall,
  type ConnectorCallScopeEntry,
} from '../core/connector-call.js';
import { CountersignError } from '../core/errors.js';
import { envelopePayload, verifyEnvelope, type DsseEnvelope } from './dsse.js';
import { ed25519FromJwk } from './key-cache.js';
import { canonicalOrUndefined, hasExactKeys, isObject, parseJson } from './read.js';

export { CONNECTOR_CALL_PAYLOAD_TYPE } from '../core/connector-call.js';
export type { ConnectorCall } from '../core/connector-call.js';

/**
 * `CONNECTOR_CALL_INVALID`, with `details.reason` one of:
 * - `malformed`: not strict JSON (duplicate keys refused) or not a DSSE envelope;
 * - `payload_type`: an envelope of another kind;
 * - `signature`: no signature verifies under a key of the JWKS;
 * - `payload`: the signed payload is not a canonical, well-formed call;
 * - `stale`: signed too long ago (or in the future), or a grant whose window has ended;
 * - `connector`: signed for another connector than the one the receiver serves.
 */
export type ConnectorCallErrorCode = 'CONNECTOR_CALL_INVALID';
export type ConnectorCallInvalidReason =
  'malformed' | 'payload_type' | 'signature' | 'payload' | 'stale' | 'connector';

export interface VerifyConnectorCallOptions {
  /** Default: the system's time. */
  readonly now?: Date;
  /** How old a call may be. Default 5 minutes; each call is signed afresh, retries resend it. */
  readonly maxAgeMs?: number;
  /**
   * The connector name this receiver serves, as the server's config names it. A call
   * signed for another connector is refused: every connector's calls are signed by the
   * same keys, so without it one receiver's call could be replayed to another.
   */
  readonly connector?: string;
}

const DEFAULT_MAX_AGE_MS = 5 * 60_000;
/** Clock skew tolerated for a call signed "in the future". */
const SKEW_MS = 60_000;

const invalid = (reason: ConnectorCallInvalidReason, message: string) =>
  new CountersignError<ConnectorCallErrorCode>('CONNECTOR_CALL_INVALID', message, {
    details: { reason },
  });

/**
 * The call a webhook body carries, once its signature verifies under `jwks` (the
 * server's JWKS, pinned or fetched from `/.well-known/jwks.json`). Throws
 * `CONNECTOR_CALL_INVALID` otherwise; the message never quotes the body.
 *
 * Verification proves the server sent the call, not that it was sent once: act on
 * `idempotencyKey` at most once, and never grant again a grant id already revoked.
 *
 * @example
 * ```ts
 * const call = verifyConnectorCall(rawBody, jwks);
 * if (call.op === 'grant') return mint(call.grantId, call.subject, call.scope, call.notAfter);
 * ```
 */
export function verifyConnectorCall(
  body: string | Uint8Array,
  jwks: { readonly keys: readonly JWK[] },
  options: VerifyConnectorCallOptions = {},
): ConnectorCall {
  let text: string;
  try {
    text =
      typeof body === 'string'
        ? body
        : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw invalid('malformed', 'the body is not UTF-8');
  }
  const doc = parseJson(text);
  const payload = envelopePayload(doc);
  if (!isObject(doc) || payload === undefined) {
    throw invalid('malformed', 'the body is not a DSSE envelope in strict JSON');
  }
  if (doc.payloadType !== CONNECTOR_CALL_PAYLOAD_TYPE) {
    throw invalid(
      'payload_type',
      `the envelope's payloadType is not ${CONNECTOR_CALL_PAYLOAD_TYPE}`,
    );
  }
  // The JWKS may come straight off the wire: read it as untrusted too.
  const listed: readonly unknown[] = Array.isArray(jwks.keys) ? (jwks.keys as unknown[]) : [];
  const keys = new Map<string, JWK>();
  for (const k of listed) {
    if (isObject(k) && typeof k.kid === 'string' && !keys.has(k.kid)) keys.set(k.kid, k);
  }
  const resolve = (kid: string) => {
    const jwk = keys.get(kid);
    return jwk === undefined ? undefined : ed25519FromJwk(jwk);
  };
  // envelopePayload checked the shape above; verifyEnvelope checks it again itself.
  if (!verifyEnvelope(doc as unknown as DsseEnvelope, resolve)) {
    throw invalid('signature', 'no signature verifies under a key of the JWKS');
  }
  const payloadText = payload.toString('utf8');
  const value = parseJson(payloadText);
  // One call, one byte string: a payload that is not canonical was not written by countersign.
  const call = canonicalOrUndefined(value) === payloadText ? readCall(value) : null;
  if (call === null) throw invalid('payload', 'the signed payload is not a connector call');
  if (options.connector !== undefined && call.connector !== options.connector) {
    throw invalid('connector', 'the call was signed for another connector');
  }
  const now = (options.now ?? new Date()).getTime();
  const age = now - Date.parse(call.issuedAt);
  if (age > (options.maxAgeMs ?? DEFAULT_MAX_AGE_MS) || age < -SKEW_MS) {
    throw invalid('stale', 'the call was signed too long ago, or in the future');
  }
  if (call.op === 'grant' && Date.parse(call.notAfter) <= now) {
    throw invalid('stale', "the grant's window has already ended");
  }
  return call;
}

const BASE_KEYS = ['v', 'op', 'connector', 'grantId', 'handle', 'issuedAt', 'idempotencyKey'];

/** A well-formed call, rebuilt field by field from checked values; null for anything else. */
function readCall(value: unknown): ConnectorCall | null {
  if (!isObject(value) || value.v !== 1) return null;
  const { op, connector, grantId, handle, issuedAt, idempotencyKey } = value;
  if (op !== 'grant' && op !== 'revoke') return null;
  const extra = op === 'grant' ? ['subject', 'scope', 'notAfter'] : [];
  if (!hasExactKeys(value, [...BASE_KEYS, ...extra])) return null;
  if (!nonEmpty(connector) || !nonEmpty(grantId) || !nonEmpty(handle)) return null;
  if (!instant(issuedAt) || idempotencyKey !== connectorCallKey(grantId, op)) return null;
  const base = { v: 1 as const, connector, grantId, handle, issuedAt, idempotencyKey };
  if (op === 'revoke') return { ...base, op };
  const { subject, scope, notAfter } = value;
  const entries = Array.isArray(scope) ? scope.map(readEntry) : [];
  if (!nonEmpty(subject) || !instant(notAfter) || entries.length === 0) return null;
  const checked = entries.filter((e): e is ConnectorCallScopeEntry => e !== null);
  if (checked.length !== entries.length) return null;
  return { ...base, op, subject, scope: checked, notAfter };
}

function readEntry(value: unknown): ConnectorCallScopeEntry | null {
  if (!isObject(value) || !hasExactKeys(value, ['resource', 'permissions'])) return null;
  const { resource, permissions } = value;
  if (!nonEmpty(resource) || !Array.isArray(permissions) || permissions.length === 0) return null;
  const perms = permissions.filter(nonEmpty);
  return perms.length === permissions.length ? { resource, permissions: perms } : null;
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

const instant = (v: unknown): v is string =>
  typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
