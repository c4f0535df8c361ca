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
  'TOOL_MISMATCH',
  'ARGUMENTS_MISMATCH',
  'TARGET_UNKNOWN',
  'WARRANT_EXHAUSTED',
  // After every check: the broker's own failure to mint the credential.
  'CONNECTOR_FAILED',
] as const;
export type RedemptionDenialCode = (typeof REDEMPTION_DENIAL_CODES)[number];
