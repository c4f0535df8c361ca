import { Type, type Static } from '@sinclair/typebox';
import { epochSeconds } from '../core/clock.js';
import type { DecisionId, RequestId, WarrantId } from '../core/ids.js';
import {
  DecisionIdSchema,
  PrincipalIdSchema,
  RequestIdSchema,
  Sha256Schema,
  Strict,
  WarrantIdSchema,
  type Frozen,
} from '../core/schema.js';
import { ScopeSchema } from '../core/scope.js';
import { ToolBindingSchema } from '../core/tool-binding.js';
import type { RequestBody } from '../request/request.js';
import {
  ExecutorBindingSchema,
  NameSchema,
  NhiIdSchema,
  RequestActionSchema,
  TargetsSchema,
} from '../core/vocabulary.js';
import type { ConcreteWindow } from '../request/window.js';

export const WARRANT_TYP = 'warrant+jwt';

/**
 * The signed claims of a warrant, the one schema a warrant payload is read against.
 * Field names follow JWT conventions (RFC 7519). Every warrant `warrantClaims` builds
 * from a request the API accepted satisfies it (a property test holds this).
 */
export const WarrantClaimsSchema = Type.Object(
  {
    iss: Type.String(),
    jti: WarrantIdSchema,
    sub: NhiIdSchema,
    iat: Type.Integer(),
    nbf: Type.Integer(),
    exp: Type.Integer(),
    request_id: RequestIdSchema,
    action: RequestActionSchema,
    /** The tool, and the pinned argument digest, of a `tool_call` warrant. */
    tool: Type.Optional(ToolBindingSchema),
    /** The connector that mints the credential at redemption, for a brokered grant. */
    connector: Type.Optional(NameSchema),
    environment: NameSchema,
    scope: ScopeSchema,
    targets: TargetsSchema,
    executor: ExecutorBindingSchema,
    max_uses: Type.Integer({ minimum: 1 }),
    approvals: Type.Array(DecisionIdSchema),
    policy_version: Sha256Schema,
    /**
     * A principal that may not redeem whatever the executor binding says: the requester,
     * when the pinned rule forbids them to execute (`requesterMayExecute: false`). It
     * matters for claim bindings, which a requester's own workload could match.
     */
    excluded_executor: Type.Optional(PrincipalIdSchema),
  },
  Strict,
);

export type WarrantClaims = Frozen<Static<typeof WarrantClaimsSchema>>;

export type WarrantState = 'active' | 'revoked';

/** The server's record of an issued warrant: its claims plus the use counter. */
export interface WarrantRecord {
  readonly id: WarrantId;
  readonly requestId: RequestId;
  readonly kid: string;
  readonly token: string;
  readonly claims: WarrantClaims;
  /**
   * The exact approved window (RFC 3339, milliseconds). The signed `nbf`/`exp` are whole
   * seconds rounded inward, so both bounds hold at once only inside this window.
   */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly uses: number;
  readonly maxUses: number;
  readonly state: WarrantState;
  readonly issuedAt: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
}

export type WarrantErrorCode =
  'WARRANT_NOT_ISSUED' | 'WARRANT_NOT_FOUND' | 'WARRANT_ALREADY_REVOKED';

/**
 * The signed `nbf`: a window that opens later is rounded up, so it never opens before
 * the approved second. A window already open at issue starts at `iat`: the warrant did
 * not exist before then, and rounding up would refuse its first second of use.
 */
function notBeforeSeconds(notBeforeMs: number, issuedAt: Date): number {
  return notBeforeMs <= issuedAt.getTime() ? epochSeconds(issuedAt) : Math.ceil(notBeforeMs / 1000);
}

/** Builds the claims of the warrant that a quorum of approvals issues. */
export function warrantClaims(args: {
  readonly issuer: string;
  readonly id: WarrantId;
  readonly requestId: RequestId;
  readonly body: RequestBody;
  /** The approved window as it stands at issue (see `windowAt`). */
  readonly window: ConcreteWindow;
  readonly approvals: readonly DecisionId[];
  readonly now: Date;
}): WarrantClaims {
  const { body } = args;
  return {
    iss: args.issuer,
    jti: args.id,
    sub: body.subject,
    iat: epochSeconds(args.now),
    nbf: notBeforeSeconds(Date.parse(args.window.notBefore), args.now),
    // Rounded down: the signed window never closes after the approved notAfter.
    exp: Math.floor(Date.parse(args.window.notAfter) / 1000),
    request_id: args.requestId,
    action: body.action,
    ...(body.tool === undefined ? {} : { tool: body.tool }),
    ...(body.connector === undefined ? {} : { connector: body.connector }),
    environment: body.environment,
    scope: body.scope,
    targets: body.targets,
    executor: body.executor,
    max_uses: body.maxUses,
    approvals: args.approvals,
    policy_version: body.policy.version,
    ...(body.policy.requesterMayExecute === false ? { excluded_executor: body.requester } : {}),
  };
}
