import { CountersignError } from '../core/errors.js';
import type { DecisionId, PrincipalId, RequestId } from '../core/ids.js';
import type { IdentityProof } from '../core/vocabulary.js';
import type { PolicyErrorCode } from '../policy/policy.js';
import type { RequestErrorCode, RequestRecord, RequestState } from '../request/request.js';

export type DecisionKind = 'approve' | 'deny';

/** One approver's decision, bound to the digest of the request body it was made on. */
export interface Decision {
  readonly id: DecisionId;
  readonly requestId: RequestId;
  readonly requestDigest: `sha256:${string}`;
  readonly approver: PrincipalId;
  readonly decision: DecisionKind;
  readonly reason: string;
  readonly at: string;
  /**
   * How the approver proved who they were (issuer, subject, sign-in time and token
   * digest for an OIDC token). Absent on decisions recorded before proofs existed.
   */
  readonly approverIdentity?: IdentityProof;
}

/** The approver as the pure core sees it. */
export interface Approver {
  readonly id: PrincipalId;
  readonly groups: readonly string[];
}

export type DecisionOutcome =
  | { readonly kind: 'recorded'; readonly approvals: number }
  | { readonly kind: 'quorum'; readonly approvals: number }
  | { readonly kind: 'denied' };

type Code = PolicyErrorCode | RequestErrorCode;

function refuse(code: Code, message: string): CountersignError<Code> {
  return new CountersignError(code, message);
}

/**
 * Checks that `approver` may decide on `request`, whose effective state now (see
 * `effectiveState`: a pending request past its deadline is expired) is `state`, and
 * what the decision does.
 * Separation of duties: the requester never decides, nor (when the pinned rule says
 * so) the subject's owner, and each approver counts once.
 */
export function evaluateDecision(
  request: RequestRecord,
  prior: readonly Decision[],
  approver: Approver,
  decision: DecisionKind,
  state: RequestState,
): DecisionOutcome {
  if (state === 'expired') throw refuse('REQUEST_EXPIRED', 'the request expired before a decision');
  if (state !== 'pending') throw refuse('REQUEST_NOT_PENDING', `the request is ${state}`);
  const pinned = request.body.policy;
  if (approver.id === request.body.requester) {
    throw refuse('SEPARATION_OF_DUTIES', 'the requester cannot decide on their own request');
  }
  // An owner is a person or a group: under excludeOwner, neither the owner nor any
  // member of the owning group decides on the NHI it owns.
  const owner = request.body.subjectOwner;
  if (pinned.excludeOwner && (approver.id === owner || approver.groups.includes(owner))) {
    throw refuse('SEPARATION_OF_DUTIES', "the subject's owner cannot decide under this rule");
  }
  if (!approver.groups.some((g) => pinned.approverGroups.includes(g))) {
    throw refuse(
      'NOT_IN_APPROVER_GROUP',
      `approver is in none of the groups ${pinned.approverGroups.join(', ')}`,
    );
  }
  if (prior.some((d) => d.approver === approver.id)) {
    throw refuse('DUPLICATE_APPROVER', 'this approver has already decided on the request');
  }
  if (decision === 'deny') return { kind: 'denied' };
  const approvals = prior.filter((d) => d.decision === 'approve').length + 1;
  return approvals >= pinned.requiredApprovals
    ? { kind: 'quorum', approvals }
    : { kind: 'recorded', approvals };
}
