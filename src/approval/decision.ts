import { CountersignError } from '../core/errors.js';
import type { DecisionId, PrincipalId, RequestId } from '../core/ids.js';
import type { IdentityProof } from '../core/vocabulary.js';
import type { PolicyErrorCode } from '../policy/policy.js';
import type {
  RequestBody,
  RequestErrorCode,
  RequestRecord,
  RequestState,
} from '../request/request.js';

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
  /** The groups the approver is trusted to be in: membership of an approver group. */
  readonly groups: readonly string[];
  /**
   * Every group the approver's credential names, trusted or not (defaults to `groups`):
   * owner exclusion reads these, so an untrusted claim can only take rights away.
   */
  readonly claimedGroups?: readonly string[];
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
 * Why `approver` may never decide on a request with this body, or null when they may:
 * separation of duties (the requester never decides, nor, when the pinned rule says so,
 * the subject's owner) and membership of an approver group. The inbox and the review
 * page ask this of every request; {@link evaluateDecision} enforces it.
 */
export function ineligibility(
  body: Pick<RequestBody, 'requester' | 'subjectOwner' | 'policy'>,
  approver: Approver,
): { readonly code: Code; readonly message: string } | null {
  const pinned = body.policy;
  if (approver.id === body.requester) {
    return {
      code: 'SEPARATION_OF_DUTIES',
      message: 'the requester cannot decide on their own request',
    };
  }
  // An owner is a person or a group: under excludeOwner, neither the owner nor any
  // member of the owning group decides on the NHI it owns.
  const owner = body.subjectOwner;
  const named = [...approver.groups, ...(approver.claimedGroups ?? [])];
  if (pinned.excludeOwner && (approver.id === owner || named.includes(owner))) {
    return {
      code: 'SEPARATION_OF_DUTIES',
      message: "the subject's owner cannot decide under this rule",
    };
  }
  if (!approver.groups.some((g) => pinned.approverGroups.includes(g))) {
    return {
      code: 'NOT_IN_APPROVER_GROUP',
      message: `approver is in none of the groups ${pinned.approverGroups.join(', ')}`,
    };
  }
  return null;
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
  const why = ineligibility(request.body, approver);
  if (why) throw refuse(why.code, why.message);
  if (prior.some((d) => d.approver === approver.id)) {
    throw refuse('DUPLICATE_APPROVER', 'this approver has already decided on the request');
  }
  if (decision === 'deny') return { kind: 'denied' };
  const approvals = prior.filter((d) => d.decision === 'approve').length + 1;
  return approvals >= request.body.policy.requiredApprovals
    ? { kind: 'quorum', approvals }
    : { kind: 'recorded', approvals };
}
