import type { NhiKind } from '../nhi/nhi.js';
import type { RequestAction } from '../request/request.js';

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
  readonly maxDurationMs: number;
  readonly maxUses: number;
  readonly pendingExpiryMs: number;
}

/** A loaded policy. `version` is the digest of the canonical document, pinned into requests. */
export interface Policy {
  readonly version: `sha256:${string}`;
  readonly rules: readonly PolicyRule[];
}

export type PolicyErrorCode =
  | 'POLICY_INVALID'
  | 'NO_MATCHING_POLICY'
  | 'POLICY_LIMIT_EXCEEDED'
  | 'SEPARATION_OF_DUTIES'
  | 'NOT_IN_APPROVER_GROUP'
  | 'DUPLICATE_APPROVER';
