import type { Scope } from '../core/scope.js';
import type { NhiId, PrincipalId, RequestId, WarrantId } from '../core/ids.js';
import type { ClaimMatcher } from '../identity/oidc/matcher.js';
import type { NhiKind } from '../nhi/nhi.js';

export const REQUEST_ACTIONS = ['grant', 'rotate', 'revoke', 'retrieve_secret', 'custom'] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

/**
 * Who may redeem the warrant: one principal by id, or any workload whose verified
 * token comes from `matcher.issuer` and satisfies every claim condition (for
 * example a GitHub Actions job of one repository and environment).
 */
export type ExecutorBinding =
  | { readonly kind: 'principal'; readonly principal: PrincipalId }
  | { readonly kind: 'claims'; readonly matcher: ClaimMatcher };

/** The approval requirements of the matching policy rule, pinned at creation. */
export interface PinnedPolicy {
  readonly version: `sha256:${string}`;
  readonly rule: string;
  readonly requiredApprovals: number;
  readonly approverGroups: readonly string[];
  readonly excludeOwner: boolean;
  /**
   * False: the requester may not execute. Checked at creation for a principal binding
   * and carried into the warrant for redemption. Absent from bodies created before the
   * field existed, which read as true (their digests cover the body as it was).
   */
  readonly requesterMayExecute: boolean;
}

/**
 * The immutable request body. Its RFC 8785 digest is the request id, so any
 * change to any field (including the nonce) makes a different request.
 */
export interface RequestBody {
  readonly v: 1;
  readonly requester: PrincipalId;
  readonly subject: NhiId;
  readonly subjectKind: NhiKind;
  readonly subjectOwner: string;
  readonly action: RequestAction;
  readonly scope: Scope;
  readonly environment: string;
  readonly targets: readonly string[];
  readonly executor: ExecutorBinding;
  /**
   * The approved window: absolute (`notBefore` and `notAfter`), or `durationMs` from
   * the warrant's issue (see window.ts). Exactly one of the two shapes is present.
   */
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly durationMs?: number;
  readonly maxUses: number;
  readonly reason: string;
  readonly ticket?: string;
  readonly createdAt: string;
  readonly pendingExpiresAt: string;
  readonly nonce: string;
  readonly policy: PinnedPolicy;
}

export const REQUEST_STATES = [
  'pending',
  'approved',
  'denied',
  'expired',
  'withdrawn',
  'revoked',
  'exhausted',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** A request as stored: the body plus its mutable lifecycle. */
export interface RequestRecord {
  readonly id: RequestId;
  readonly body: RequestBody;
  readonly state: RequestState;
  readonly warrantId: WarrantId | null;
  readonly updatedAt: string;
}

export type RequestErrorCode =
  | 'REQUEST_UNKNOWN'
  | 'REQUEST_NOT_PENDING'
  | 'REQUEST_EXPIRED'
  | 'REQUEST_WINDOW_INVALID'
  | 'REQUEST_TAMPERED'
  | 'NOT_REQUESTER'
  | 'EXECUTOR_BINDING_INVALID';
