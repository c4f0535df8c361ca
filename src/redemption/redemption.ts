import { Type, type Static } from '@sinclair/typebox';
import { Strict, type Frozen } from '../core/schema.js';
import { PermissionSchema, ResourceSchema } from '../core/scope.js';
import { NameSchema } from '../core/vocabulary.js';

/** The shape of an action, as a redemption body names it and a receipt signs it. */
export const RedemptionActionSchema = Type.Object(
  {
    resource: ResourceSchema,
    permission: PermissionSchema,
    environment: NameSchema,
    target: Type.Optional(NameSchema),
  },
  Strict,
);

/** The concrete action an executor asks to perform at the point of execution. */
export type RedemptionAction = Frozen<Static<typeof RedemptionActionSchema>>;

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
