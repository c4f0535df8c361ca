import type { NhiKind } from '../core/vocabulary.js';
import type { RequestAction } from '../core/vocabulary.js';

/** One policy rule, validated and with durations in milliseconds. */
export interface PolicyRule {
  readonly name: string;
  readonly match: {
    readonly environments: readonly string[] | null;
    readonly nhiKinds: readonly NhiKind[] | null;
    readonly actions: readonly RequestAction[] | null;
    /** Resource patterns that every scope entry must fall within; null = any. */
    readonly resources: readonly string[] | null;
  };
  readonly approvals: { readonly required: number; readonly groups: readonly string[] };
  readonly excludeOwner: boolean;
  /** False: the requester may not be the executor (refused at creation, pinned for redemption). */
  readonly requesterMayExecute: boolean;
  readonly maxDurationMs: number;
  /** How far ahead of creation `notBefore` may lie. */
  readonly maxLeadTimeMs: number;
  readonly maxUses: number;
  readonly pendingExpiryMs: number;
}

/** A loaded policy. `version` is the digest of the canonical document, pinned into requests. */
export interface Policy {
  readonly version: `sha256:${string}`;
  /**
   * Every environment a request may name, compared exactly: `PROD` or `prod.` is not
   * `prod`, and would otherwise fall through to a looser catch-all rule.
   */
  readonly environments: readonly string[];
  readonly rules: readonly PolicyRule[];
}

export type PolicyErrorCode =
  | 'POLICY_INVALID'
  | 'ENVIRONMENT_UNKNOWN'
  | 'NO_MATCHING_POLICY'
  | 'SCOPE_SPANS_RULES'
  | 'POLICY_LIMIT_EXCEEDED'
  | 'SEPARATION_OF_DUTIES'
  | 'NOT_IN_APPROVER_GROUP'
  | 'DUPLICATE_APPROVER';
