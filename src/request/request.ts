import type { Scope } from '../core/scope.js';
import type { ToolBinding } from '../core/tool-binding.js';
import type { NhiId, PrincipalId, RequestId, WarrantId } from '../core/ids.js';
import type { ExecutorBinding, NhiKind, RequestAction } from '../core/vocabulary.js';

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
  /** The tool a `tool_call` request approves (present exactly when the action is `tool_call`). */
  readonly tool?: ToolBinding;
  /**
   * The connector that mints the credential at redemption (a brokered grant): its scope
   * names only that connector's resources, and its one target is the connector.
   */
  readonly connector?: string;
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
  | 'EXECUTOR_BINDING_INVALID'
  | 'CONNECTOR_UNKNOWN';
