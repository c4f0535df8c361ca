import type { CustodyTool } from './custody-tool.js';
/** The chain of custody of one request, as `custodyOf` reads it from the log. */

/** A concrete action as a redemption or denial recorded it. */
export interface CustodyAction {
  readonly resource: string | null;
  readonly permission: string | null;
  readonly environment: string | null;
  readonly target: string | null;
  /** The tool call it presented, for an agent's tool call. */
  readonly tool: CustodyTool | null;
}

export interface CustodyRequest {
  readonly at: string;
  readonly requester: string | null;
  readonly subject: string | null;
  readonly action: string | null;
  readonly scope: readonly {
    readonly resource: string;
    readonly permissions: readonly string[];
    /** Argument constraints as text, for a session of tool calls. */
    readonly constraints: string | null;
  }[];
  /** The tool a `tool_call` request approves. */
  readonly tool: CustodyTool | null;
  readonly environment: string | null;
  readonly targets: readonly string[];
  readonly executor: string | null;
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  /** A window relative to the warrant's issue, in milliseconds (then no notBefore/notAfter). */
  readonly durationMs: number | null;
  readonly maxUses: number | null;
  readonly reason: string | null;
  readonly ticket: string | null;
  readonly policy: {
    readonly version: string | null;
    readonly rule: string | null;
    readonly requiredApprovals: number | null;
    readonly approverGroups: readonly string[];
  };
}

export interface CustodyDecision {
  readonly kind: 'approved' | 'denied';
  readonly decisionId: string | null;
  readonly approver: string;
  readonly at: string;
  readonly reason: string | null;
  readonly requestDigest: string | null;
  readonly policyVersion: string | null;
  readonly rule: string | null;
  /** How the approver signed in, when the decision carries an OIDC identity proof. */
  readonly signIn: CustodySignIn | null;
}

/** An approver's federated sign-in, from the decision's identity proof. */
export interface CustodySignIn {
  readonly issuer: string;
  readonly subject: string;
  /** `auth_time` as an RFC 3339 instant, or null when the token carried none. */
  readonly authTime: string | null;
  readonly tokenDigest: string | null;
}

export interface CustodyWarrant {
  readonly id: string | null;
  readonly issuedAt: string;
  readonly kid: string | null;
  readonly executor: string | null;
  /** `nbf` and `exp` as RFC 3339 instants, when they are valid epoch seconds. */
  readonly notBefore: string | null;
  readonly notAfter: string | null;
  readonly maxUses: number | null;
  readonly targets: readonly string[];
}

export interface CustodyRedemption {
  readonly at: string;
  readonly use: number | null;
  readonly maxUses: number | null;
  readonly executor: string | null;
  readonly action: CustodyAction | null;
}

export interface CustodyDenial {
  readonly at: string;
  readonly executor: string;
  readonly code: string | null;
  readonly action: CustodyAction | null;
}

export interface CustodyEnd {
  readonly kind: 'revoked' | 'exhausted' | 'expired' | 'withdrawn';
  readonly at: string;
  readonly actor: string;
  readonly reason: string | null;
}

/** A `fulfilment.*` event: what happened at one target, applying or revoking. */
export interface CustodyFulfilment {
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly target: string | null;
  /** `apply` (the approved change) or `revoke` (a time-boxed grant taken away again). */
  readonly phase: string;
  readonly outcome: string | null;
  readonly fingerprint: string | null;
}

/** An `observation.recorded` event: what a collector saw at one target. */
export interface CustodyObservation {
  readonly at: string;
  readonly observedAt: string | null;
  readonly actor: string;
  readonly target: string | null;
  /** `secret_version` or `grant`. */
  readonly kind: string | null;
  /** The fact in words: the fingerprint, or `resource=permission present|absent`. */
  readonly fact: string;
}

/** A finding raised about the request, with where it stands at the end of the bundle. */
export interface CustodyFinding {
  readonly id: string | null;
  readonly kind: string | null;
  readonly target: string | null;
  readonly detail: string | null;
  readonly raisedAt: string;
  readonly state: 'open' | 'acknowledged' | 'resolved';
}

/** Any other event, kept by type, actor and time. */
export interface CustodyOther {
  readonly type: string;
  readonly at: string;
  readonly actor: string;
}

/** A discrepancy between what was approved and what the log shows. */
export type CustodyGap =
  | { readonly kind: 'request_missing' }
  | { readonly kind: 'quorum_short'; readonly required: number; readonly approvers: number }
  | { readonly kind: 'target_unfulfilled'; readonly target: string }
  | { readonly kind: 'redeemed_without_warrant'; readonly at: string }
  | { readonly kind: 'redeemed_before_validity'; readonly at: string; readonly nbf: string }
  | { readonly kind: 'redeemed_after_expiry'; readonly at: string; readonly exp: string }
  | { readonly kind: 'redeemed_after_revocation'; readonly at: string; readonly revokedAt: string }
  | {
      readonly kind: 'finding_unresolved';
      readonly findingKind: string | null;
      readonly target: string | null;
      readonly state: 'open' | 'acknowledged';
      readonly detail: string | null;
    };

export interface CustodyChain {
  readonly request: CustodyRequest | null;
  readonly decisions: readonly CustodyDecision[];
  readonly warrant: CustodyWarrant | null;
  readonly redemptions: readonly CustodyRedemption[];
  readonly denials: readonly CustodyDenial[];
  readonly ends: readonly CustodyEnd[];
  /** Fulfilments of both phases, in log order. */
  readonly fulfilments: readonly CustodyFulfilment[];
  readonly observations: readonly CustodyObservation[];
  readonly findings: readonly CustodyFinding[];
  readonly other: readonly CustodyOther[];
  readonly gaps: readonly CustodyGap[];
}

/** The empty chain, for a bundle that could not be read. */
export const EMPTY_CUSTODY: CustodyChain = {
  request: null,
  decisions: [],
  warrant: null,
  redemptions: [],
  denials: [],
  ends: [],
  fulfilments: [],
  observations: [],
  findings: [],
  other: [],
  gaps: [],
};
