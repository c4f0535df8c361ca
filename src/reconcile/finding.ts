import { timeOrderedId } from '../core/crypto.js';
import { CountersignError } from '../core/errors.js';
import type { Brand } from '../core/ids.js';

/**
 * Findings: what reconciliation learned by comparing what was approved, what
 * executors claimed and what collectors observed. A finding is raised once per
 * fact (its `key`) and then moves open → acknowledged → resolved; one reconciliation
 * resolved itself is reopened when its condition holds again (decision 0035).
 */

export type FindingId = Brand<string, 'FindingId'>;
/** Ordered by the instant it is raised at, so a pass's findings append (decision 0033). */
export const newFindingId = (at: Date): FindingId => timeOrderedId('fnd', at) as FindingId;

export const FINDING_KINDS = [
  'UNFULFILLED_TARGET',
  'FULFILMENT_MISMATCH',
  'UNAPPROVED_CHANGE',
  'SCOPE_EXCEEDED_OBSERVED',
  'EXPIRED_NOT_REVOKED',
  'REDEMPTION_ABUSE',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const FINDING_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type FindingState = (typeof FINDING_STATES)[number];

export type FindingTransition = 'acknowledge' | 'resolve';

/** - `FINDING_TRANSITION_INVALID`: the transition is not allowed from the current state. */
export type FindingErrorCode = 'FINDING_TRANSITION_INVALID';

/**
 * The records a finding rests on, as the reconciler names them. The service turns
 * each into the log index of the event that recorded it (see {@link FindingProof}).
 *
 * - `warrants`: warrant ids, cited by their `warrant.issued` event;
 * - `redemptions`: redemption record ids (the id of the `redemption.allowed` or
 *   `redemption.denied` event, see `RedemptionRecord`);
 * - `fulfilments`: fulfilment ids (`fulfilment.recorded`);
 * - `observations`: observation ids (`observation.recorded`).
 */
export interface FindingEvidence {
  readonly warrants: readonly string[];
  readonly redemptions: readonly string[];
  readonly fulfilments: readonly string[];
  readonly observations: readonly string[];
}

/**
 * The proof of a recorded finding: the log indices of the events it rests on, by
 * the role each plays. Every index is of an event integrated before the finding's
 * own `finding.raised` event, so the proof always precedes the claim in the log.
 */
export interface FindingProof {
  /** `warrant.issued` events. */
  readonly warrants: readonly number[];
  /** `redemption.allowed` and `redemption.denied` events. */
  readonly redemptions: readonly number[];
  /** `fulfilment.recorded` events. */
  readonly fulfilments: readonly number[];
  /** `observation.recorded` events. */
  readonly observations: readonly number[];
}

export const EVIDENCE_ROLES = ['warrants', 'redemptions', 'fulfilments', 'observations'] as const;
export type EvidenceRole = (typeof EVIDENCE_ROLES)[number];

/** Every index of a proof, ascending and distinct. */
export const proofIndices = (p: FindingProof): number[] =>
  [...new Set(EVIDENCE_ROLES.flatMap((r) => p[r]))].sort((a, b) => a - b);

export interface FindingResolution {
  readonly by: string;
  readonly reason: string;
  readonly at: string;
  /** True when reconciliation saw the condition clear, false when a person resolved it. */
  readonly automatic: boolean;
}

export interface Finding {
  readonly id: FindingId;
  readonly key: string;
  readonly kind: FindingKind;
  readonly state: FindingState;
  readonly requestId: string | null;
  readonly warrantId: string | null;
  readonly subject: string;
  readonly target: string | null;
  readonly detail: string;
  /** Log indices of the events the finding rests on. */
  readonly evidence: FindingProof;
  readonly raisedAt: string;
  readonly updatedAt: string;
  readonly resolution: FindingResolution | null;
}

/** What reconciliation asks the service to record: a finding without id, state or times. */
export interface NewFinding {
  readonly kind: FindingKind;
  readonly key: string;
  readonly requestId: string | null;
  readonly warrantId: string | null;
  readonly subject: string;
  readonly target: string | null;
  /** A human sentence. Names, digests and counts only: never secret material. */
  readonly detail: string;
  readonly evidence: FindingEvidence;
}

/**
 * One name inside a key, with `\` and `|` escaped, so that a name holding `|` (an OIDC
 * subject, a collector's target) cannot make two facts share a key: one finding could then
 * stand for the other, which would never be raised. A name holding neither keeps the
 * text it had before the escape.
 */
export const keyPart = (name: string): string => name.replace(/[\\|]/g, (c) => `\\${c}`);

/** The key of `kind` over `names`, each escaped: the count of bare `|` gives the arity. */
const keyOf = (kind: string, ...names: readonly string[]): string =>
  [kind, ...names.map(keyPart)].join('|');

/**
 * The key of each kind of finding: the identity of the fact it reports. A key is
 * raised at most once, whatever later happens to its finding. Keys are injective: two
 * kinds that share a prefix differ in their count of names.
 */
export const findingKey = {
  unfulfilledTarget: (warrantId: string, target: string): string =>
    keyOf('UNFULFILLED_TARGET', warrantId, target),
  fulfilmentMismatch: (fulfilmentId: string): string => keyOf('FULFILMENT_MISMATCH', fulfilmentId),
  unapprovedVersion: (subject: string, target: string, fingerprint: string): string =>
    keyOf('UNAPPROVED_CHANGE', subject, target, fingerprint),
  unapprovedGrant: (
    subject: string,
    target: string,
    resource: string,
    permission: string,
  ): string => keyOf('UNAPPROVED_CHANGE', subject, target, resource, permission),
  scopeExceeded: (subject: string, target: string, resource: string, permission: string): string =>
    keyOf('SCOPE_EXCEEDED_OBSERVED', subject, target, resource, permission),
  expiredNotRevoked: (warrantId: string, target: string): string =>
    keyOf('EXPIRED_NOT_REVOKED', warrantId, target),
  redemptionAbuse: (warrantId: string): string => keyOf('REDEMPTION_ABUSE', warrantId),
  /** A caller refused again and again with no warrant this server holds. */
  callerAbuse: (executor: string): string => keyOf('REDEMPTION_ABUSE', 'caller', executor),
  /**
   * The next occurrence of an abuse finding (`key`, either of the two above) after the
   * finding `resolved` that a person resolved: the refusals since, counted afresh.
   */
  abuseAfter: (key: string, resolved: string): string => `${key}|after|${keyPart(resolved)}`,
} as const;

function refuse(state: FindingState, t: FindingTransition): CountersignError<FindingErrorCode> {
  return new CountersignError(
    'FINDING_TRANSITION_INVALID',
    `cannot ${t} a finding that is ${state}`,
    {
      details: { state, transition: t },
    },
  );
}

/**
 * What a person may do to a finding: `open` may be acknowledged or resolved,
 * `acknowledged` may be resolved, `resolved` is final for people (only reconciliation
 * reopens, and only what it resolved itself). Anything else throws
 * `FINDING_TRANSITION_INVALID`.
 *
 * @example
 * transitionFinding('open', 'acknowledge'); // 'acknowledged'
 */
export function transitionFinding(state: FindingState, t: FindingTransition): FindingState {
  switch (state) {
    case 'open':
      return t === 'acknowledge' ? 'acknowledged' : 'resolved';
    case 'acknowledged':
      if (t === 'resolve') return 'resolved';
      throw refuse(state, t);
    case 'resolved':
      throw refuse(state, t);
  }
}
