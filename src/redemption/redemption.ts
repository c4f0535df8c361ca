import type { PrincipalId, ReceiptId, WarrantId } from '../core/ids.js';
import type { IdentityProof } from '../identity/proof.js';

/** The concrete action an executor asks to perform at the point of execution. */
export interface RedemptionAction {
  readonly resource: string;
  readonly permission: string;
  readonly environment: string;
  readonly target?: string;
}

/**
 * Every refusal has exactly one stable code, checked in this order. The first is the
 * edge's (a body that cannot be read); `checkRedemption` decides the rest.
 */
export const REDEMPTION_DENIAL_CODES = [
  'REDEMPTION_MALFORMED',
  'SIGNATURE_INVALID',
  'KEY_REVOKED',
  'WARRANT_UNKNOWN',
  'WARRANT_REVOKED',
  'WARRANT_NOT_YET_VALID',
  'WARRANT_EXPIRED',
  'EXECUTOR_MISMATCH',
  'ENVIRONMENT_MISMATCH',
  'SCOPE_EXCEEDED',
  'TARGET_UNKNOWN',
  'WARRANT_EXHAUSTED',
] as const;
export type RedemptionDenialCode = (typeof REDEMPTION_DENIAL_CODES)[number];

export type RedemptionDecision =
  | { readonly kind: 'allow' }
  | { readonly kind: 'deny'; readonly code: RedemptionDenialCode; readonly reason: string };

/**
 * The one refusal of a spent warrant, whether the check saw the count reach the signed
 * `max_uses` or the atomic spend (`WarrantWriter.consumeUse`) found nothing left.
 */
export const EXHAUSTED: RedemptionDecision = {
  kind: 'deny',
  code: 'WARRANT_EXHAUSTED',
  reason: 'every approved use is spent',
};

/** What the signed receipt of an allowed redemption binds together. */
export interface ReceiptClaims {
  readonly iss: string;
  readonly jti: ReceiptId;
  readonly iat: number;
  readonly warrant_id: WarrantId;
  readonly request_id: string;
  readonly sub: string;
  readonly use: number;
  readonly max_uses: number;
  readonly action: RedemptionAction;
  readonly executor: PrincipalId;
  /** How the executor proved who it is: for a workload, its token's issuer, subject and digest. */
  readonly executor_identity: IdentityProof;
}

export const RECEIPT_TYP = 'receipt+jwt';
