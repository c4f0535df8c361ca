/**
 * The in-toto Statement v1 that an evidence bundle attests, and its approval-chain
 * predicate. The predicate is a pure function of the bundle's entries, checkpoint and
 * keys, so a verifier recomputes it and compares canonical JSON.
 *
 * @see https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
 */
import { canonicalJson, digestOf } from '../core/canonical.js';
import type { CustodyAction } from './chain.js';
import { custodyOf } from './custody.js';
import type { EvidenceEvent } from './read.js';

/** in-toto Statement v1 `_type`. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The DSSE `payloadType` of an in-toto statement (in-toto envelope.md). */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The `predicateType` of the countersign approval-chain predicate. */
export const PREDICATE_TYPE = 'https://countersign.dev/attestations/approval-chain/v1';

/** in-toto ResourceDescriptor, restricted to a name and a SHA-256 digest. */
export interface StatementSubject {
  readonly name: string;
  readonly digest: { readonly sha256: string };
}

/** An in-toto Statement v1. */
export interface Statement<P> {
  readonly _type: typeof STATEMENT_TYPE;
  readonly subject: readonly StatementSubject[];
  readonly predicateType: string;
  readonly predicate: P;
}

/**
 * The approval-chain predicate (`predicateType` {@link PREDICATE_TYPE}). Fields read from
 * events are `null` when the log does not hold them.
 *
 * - `requestId`: `sha256:<hex>` digest of the request body (RFC 8785), the statement subject.
 * - `policyVersion`, `rule`: the policy pinned in the `request.created` body.
 * - `requester`, `subject` (the NHI), `environment`: from the `request.created` body.
 * - `approvers`: `[{ id, at }]` of every `decision.approved`, in log order.
 * - `warrantId`: the `jti` of the `warrant.issued` claims.
 * - `redemptions`: `[{ use, executor, action, at }]` of every `redemption.allowed`
 *   (`action` is `{ resource, permission, environment, target }`).
 * - `denials`: `[{ code, at }]` of every `redemption.denied`.
 * - `revoked`: `{ by, at, reason }` of the first `warrant.revoked`; absent otherwise.
 * - `checkpoint`: `{ origin, size, rootHash }` of the C2SP checkpoint the entries are
 *   proven against (`rootHash` in standard base64).
 * - `entries`: `[{ index, type, leafHash }]` in bundle order (`leafHash` is the hex
 *   RFC 6962 leaf hash), so the statement pins exactly which leaves the bundle holds.
 * - `keys`: `{ log, jwks }`, the log verifier key and the `sha256:` digest of the
 *   JWKS's canonical JSON, so the attestation also pins the embedded trust material.
 */
export interface ApprovalChainPredicate {
  readonly requestId: string;
  readonly policyVersion: string | null;
  readonly rule: string | null;
  readonly requester: string | null;
  readonly subject: string | null;
  readonly environment: string | null;
  readonly approvers: readonly { readonly id: string; readonly at: string }[];
  readonly warrantId: string | null;
  readonly redemptions: readonly {
    readonly use: number | null;
    readonly executor: string | null;
    readonly action: CustodyAction | null;
    readonly at: string;
  }[];
  readonly denials: readonly { readonly code: string | null; readonly at: string }[];
  readonly revoked?: { readonly by: string; readonly at: string; readonly reason: string | null };
  readonly checkpoint: CheckpointSummary;
  readonly entries: readonly {
    readonly index: number;
    readonly type: string;
    readonly leafHash: string;
  }[];
  readonly keys: { readonly log: string; readonly jwks: string };
}

/** The checkpoint a statement is made against, its root in standard base64. */
export interface CheckpointSummary {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: string;
}

/** What the predicate is computed from. */
export interface PredicateInput {
  readonly requestId: string;
  readonly checkpoint: CheckpointSummary;
  readonly entries: readonly {
    readonly index: number;
    readonly leafHash: string;
    readonly event: EvidenceEvent;
  }[];
  readonly logVerifierKey: string;
  readonly jwks: unknown;
}

/** Computes the approval-chain predicate. Throws only if `jwks` cannot be canonicalised. */
export function approvalChainPredicate(input: PredicateInput): ApprovalChainPredicate {
  const chain = custodyOf(input.entries.map((e) => e.event));
  const { request, warrant } = chain;
  const revoked = chain.ends.find((e) => e.kind === 'revoked');
  return {
    requestId: input.requestId,
    policyVersion: request?.policy.version ?? null,
    rule: request?.policy.rule ?? null,
    requester: request?.requester ?? null,
    subject: request?.subject ?? null,
    environment: request?.environment ?? null,
    approvers: chain.decisions
      .filter((d) => d.kind === 'approved')
      .map((d) => ({ id: d.approver, at: d.at })),
    warrantId: warrant?.id ?? null,
    redemptions: chain.redemptions.map((r) => ({
      use: r.use,
      executor: r.executor,
      action: r.action,
      at: r.at,
    })),
    denials: chain.denials.map((d) => ({ code: d.code, at: d.at })),
    ...(revoked === undefined
      ? {}
      : { revoked: { by: revoked.actor, at: revoked.at, reason: revoked.reason } }),
    checkpoint: {
      origin: input.checkpoint.origin,
      size: input.checkpoint.size,
      rootHash: input.checkpoint.rootHash,
    },
    entries: input.entries.map((e) => ({
      index: e.index,
      type: e.event.type,
      leafHash: e.leafHash,
    })),
    keys: { log: input.logVerifierKey, jwks: digestOf(input.jwks) },
  };
}

/**
 * The statement over a request's approval chain. The subject is the request id:
 * `{ name: requestId, digest: { sha256: <hex part of requestId> } }`.
 *
 * @example
 * ```ts
 * const bytes = statementBytes(approvalChainStatement(input));
 * ```
 */
export function approvalChainStatement(input: PredicateInput): Statement<ApprovalChainPredicate> {
  return {
    _type: STATEMENT_TYPE,
    subject: [
      { name: input.requestId, digest: { sha256: input.requestId.replace(/^sha256:/, '') } },
    ],
    predicateType: PREDICATE_TYPE,
    predicate: approvalChainPredicate(input),
  };
}

/** The DSSE payload of a statement: the UTF-8 bytes of its RFC 8785 canonical JSON. */
export function statementBytes(statement: Statement<unknown>): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8');
}
