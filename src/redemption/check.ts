import { scopeAllows } from '../core/scope.js';
import { toolCallProblem } from '../core/tool-binding.js';
import type { VerifiedIdentity } from '../identity/oidc/identity.js';
import { matchClaims } from '../core/claim-matcher.js';
import type { ExecutorBinding } from '../core/vocabulary.js';
import type { WarrantClaims, WarrantRecord } from '../warrant/warrant.js';
import {
  EXHAUSTED,
  type RedemptionAction,
  type RedemptionDecision,
  type RedemptionDenialCode,
} from './redemption.js';

export interface RedemptionInput {
  /** Claims of a warrant whose signature verified, or null when it did not. */
  readonly claims: WarrantClaims | null;
  /** True when the key that signed the warrant has been marked compromised. */
  readonly keyRevoked: boolean;
  /** The server's record for `claims.jti`, or null when there is none. */
  readonly record: WarrantRecord | null;
  readonly action: RedemptionAction;
  /** The caller's principal id. */
  readonly executor: string;
  /** The caller's verified federated identity, or null for an API-token caller. */
  readonly executorIdentity: Pick<VerifiedIdentity, 'kind' | 'issuer' | 'claims'> | null;
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
  const { claims, record } = input;
  const signature = signatureProblem(input);
  if (signature !== null || !claims) return signature ?? INVALID;
  if (!record || record.requestId !== claims.request_id) {
    return deny('WARRANT_UNKNOWN', 'no such warrant was issued');
  }
  if (record.state === 'revoked') return deny('WARRANT_REVOKED', 'the warrant was revoked');
  // Both windows must hold: the signed seconds (rounded inward at issue) and the exact
  // approved milliseconds the server keeps.
  const problem = presentedProblem(input, claims, {
    notBefore: Date.parse(record.notBefore),
    notAfter: Date.parse(record.notAfter),
  });
  if (problem !== null) return problem;
  // The signed max_uses is the bound: the row's counters only count.
  if (record.uses >= claims.max_uses) return EXHAUSTED;
  return ALLOW;
}

/**
 * The check of a retry (an idempotency key that already redeemed): every check of
 * {@link checkRedemption} but the count, since the use it answers was spent by its first
 * attempt. A revocation, the window's end or a revoked key since then stops the retry
 * too, and so does a caller the binding does not name: an executor whose first answer
 * was lost must not act on it once the approval is gone, nor another workload on its key.
 */
export function checkRetry(input: RedemptionInput): RedemptionDecision {
  const decision = checkRedemption(input);
  return decision === EXHAUSTED ? ALLOW : decision;
}

/**
 * The checks that need only what was presented (the verified claims, the action, the
 * caller), not the server's row. An allow here is what a one-statement spend
 * (`Store.spendUse`) starts from: that statement checks the row itself (issued for
 * this request, active, inside its exact window, a use left) and matches nothing
 * otherwise, and the caller then runs `checkRedemption` for the refusal's code.
 */
export function checkPresented(input: Omit<RedemptionInput, 'record'>): RedemptionDecision {
  const signature = signatureProblem(input);
  if (signature !== null || !input.claims) return signature ?? INVALID;
  return presentedProblem(input, input.claims, null) ?? ALLOW;
}

const ALLOW: RedemptionDecision = { kind: 'allow' };
const INVALID = deny('SIGNATURE_INVALID', 'the warrant signature does not verify');

function signatureProblem(input: Pick<RedemptionInput, 'claims' | 'keyRevoked'>) {
  if (!input.claims) return INVALID;
  if (input.keyRevoked) return deny('KEY_REVOKED', 'the warrant was signed by a revoked key');
  return null;
}

/** The window, the executor, the environment, the scope, the tool and the target. */
function presentedProblem(
  input: Omit<RedemptionInput, 'record'>,
  claims: WarrantClaims,
  exact: { readonly notBefore: number; readonly notAfter: number } | null,
): RedemptionDecision | null {
  const { action } = input;
  const t = input.now.getTime();
  if (t < claims.nbf * 1000 || (exact !== null && t < exact.notBefore))
    return deny('WARRANT_NOT_YET_VALID', 'the warrant window has not opened');
  if (t >= claims.exp * 1000 || (exact !== null && t >= exact.notAfter))
    return deny('WARRANT_EXPIRED', 'the warrant window has closed');
  const mismatch =
    claims.excluded_executor === input.executor
      ? 'the requester may not execute this warrant'
      : executorMismatch(claims.executor, input);
  if (mismatch !== null) return deny('EXECUTOR_MISMATCH', mismatch);
  if (action.environment !== claims.environment) {
    return deny('ENVIRONMENT_MISMATCH', 'the warrant is for a different environment');
  }
  const arguments_ = action.tool?.arguments;
  if (
    !scopeAllows(
      claims.scope,
      arguments_ === undefined ? action : { ...action, arguments: arguments_ },
    )
  ) {
    return deny('SCOPE_EXCEEDED', 'the action lies outside the approved scope');
  }
  const toolProblem = toolCallProblem(claims.sub, claims.tool, action.tool);
  if (toolProblem !== null) return deny(toolProblem.code, toolProblem.reason);
  if (claims.targets.length > 0 || action.target !== undefined) {
    if (action.target === undefined || !claims.targets.includes(action.target)) {
      return deny('TARGET_UNKNOWN', 'the action names no approved target');
    }
  }
  return null;
}

/** Why the caller is not the executor the warrant binds, or null when it is. */
export function executorMismatch(
  binding: ExecutorBinding,
  input: Pick<RedemptionInput, 'executor' | 'executorIdentity'>,
): string | null {
  switch (binding.kind) {
    case 'principal':
      return binding.principal === input.executor ? null : 'the warrant names a different executor';
    case 'claims': {
      const identity = input.executorIdentity;
      // Only a verified workload token can satisfy a claim binding: never an API token,
      // never a person's ID token, whatever claims it happens to carry.
      if (identity?.kind !== 'workload') {
        return 'the warrant binds a workload identity; present a workload token';
      }
      const match = matchClaims(binding.matcher, identity);
      return match.ok
        ? null
        : `the workload token does not match the binding (claim ${match.claim})`;
    }
  }
}
