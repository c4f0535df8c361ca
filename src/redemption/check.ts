import { scopeAllows } from '../core/scope.js';
import type { WarrantClaims, WarrantRecord } from '../warrant/warrant.js';
import type { RedemptionAction, RedemptionDecision, RedemptionDenialCode } from './redemption.js';

export interface RedemptionInput {
  /** Claims of a warrant whose signature verified, or null when it did not. */
  readonly claims: WarrantClaims | null;
  /** True when the key that signed the warrant has been marked compromised. */
  readonly keyRevoked: boolean;
  /** The server's record for `claims.jti`, or null when there is none. */
  readonly record: WarrantRecord | null;
  readonly action: RedemptionAction;
  readonly executor: string;
  readonly now: Date;
}

const deny = (code: RedemptionDenialCode, reason: string): RedemptionDecision => ({
  kind: 'deny',
  code,
  reason,
});

/**
 * The redemption decision, as a pure function. Checks run in a fixed order so that
 * every refusal reports the first broken guarantee with one stable code.
 * Exhaustion is checked here and again by the atomic consume in the store.
 */
export function checkRedemption(input: RedemptionInput): RedemptionDecision {
  const { claims, record, action, now } = input;
  if (!claims) return deny('SIGNATURE_INVALID', 'the warrant signature does not verify');
  if (input.keyRevoked) return deny('KEY_REVOKED', 'the warrant was signed by a revoked key');
  if (!record || record.requestId !== claims.request_id) {
    return deny('WARRANT_UNKNOWN', 'no such warrant was issued');
  }
  if (record.state === 'revoked') return deny('WARRANT_REVOKED', 'the warrant was revoked');
  const t = now.getTime();
  if (t < claims.nbf * 1000)
    return deny('WARRANT_NOT_YET_VALID', 'the warrant window has not opened');
  if (t >= claims.exp * 1000) return deny('WARRANT_EXPIRED', 'the warrant window has closed');
  switch (claims.executor.kind) {
    case 'principal':
      if (claims.executor.principal !== input.executor) {
        return deny('EXECUTOR_MISMATCH', 'the warrant names a different executor');
      }
      break;
  }
  if (action.environment !== claims.environment) {
    return deny('ENVIRONMENT_MISMATCH', 'the warrant is for a different environment');
  }
  if (!scopeAllows(claims.scope, action)) {
    return deny('SCOPE_EXCEEDED', 'the action lies outside the approved scope');
  }
  if (claims.targets.length > 0 || action.target !== undefined) {
    if (action.target === undefined || !claims.targets.includes(action.target)) {
      return deny('TARGET_UNKNOWN', 'the action names no approved target');
    }
  }
  if (record.uses >= record.maxUses)
    return deny('WARRANT_EXHAUSTED', 'every approved use is spent');
  return { kind: 'allow' };
}
