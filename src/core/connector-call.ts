/**
 * The signed call a webhook connector makes (grant or revoke), as both ends read it:
 * `connectors/webhook.ts` writes it, and `evidence/connector-call.ts` is what a
 * receiver runs to check it. It lives in core because two areas share it.
 *
 * On the wire it is the payload of a DSSE envelope whose payloadType is
 * {@link CONNECTOR_CALL_PAYLOAD_TYPE}: the RFC 8785 canonical JSON of a
 * {@link ConnectorCall}, signed with the server's active Ed25519 key (keyid = the JWKS kid).
 */
import { canonicalJson } from './canonical.js';

export const CONNECTOR_CALL_PAYLOAD_TYPE = 'application/vnd.countersign.connector+json';

/** A scope entry as the receiver sees it: concrete resources, the approved permissions. */
export interface ConnectorCallScopeEntry {
  readonly resource: string;
  readonly permissions: readonly string[];
}

interface CallBase {
  readonly v: 1;
  /** The connector's name in the server config. */
  readonly connector: string;
  /** countersign's id for the grant (the redemption's receipt id). */
  readonly grantId: string;
  /** What revoke names; for the webhook connector, the grant id itself. */
  readonly handle: string;
  /** ISO 8601: when this call was signed. A retried attempt resends the same bytes. */
  readonly issuedAt: string;
  /** `<grantId>:<op>`, as in the `Idempotency-Key` header. */
  readonly idempotencyKey: string;
}

/** Mint a credential for `subject`, for exactly `scope`, that dies at `notAfter`. */
export interface ConnectorGrantCall extends CallBase {
  readonly op: 'grant';
  readonly subject: string;
  readonly scope: readonly ConnectorCallScopeEntry[];
  /** ISO 8601: the credential must not outlive this (the warrant's window end). */
  readonly notAfter: string;
}

/** Revoke whatever `grantId` minted. Revoking what is already gone must succeed. */
export interface ConnectorRevokeCall extends CallBase {
  readonly op: 'revoke';
}

export type ConnectorCall = ConnectorGrantCall | ConnectorRevokeCall;
export type ConnectorCallOp = ConnectorCall['op'];

/**
 * The `Idempotency-Key` of a call (draft-ietf-httpapi-idempotency-key-header): stable
 * across every retry of the same operation on the same grant, whoever sends it.
 */
export function connectorCallKey(grantId: string, op: ConnectorCallOp): string {
  return `${grantId}:${op}`;
}

/** The payload bytes a call is signed as: its canonical JSON (RFC 8785), UTF-8. */
export function connectorCallBytes(call: ConnectorCall): Uint8Array {
  return Buffer.from(canonicalJson(call), 'utf8');
}
