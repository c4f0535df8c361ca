import { digestOf } from '../core/canonical.js';
import { CountersignError, type CoreErrorCode } from '../core/errors.js';
import type { PrincipalId, RequestId } from '../core/ids.js';
import { normaliseScope, type Scope } from '../core/scope.js';
import {
  normaliseToolBinding,
  type ToolBinding,
  type ToolBindingErrorCode,
} from '../core/tool-binding.js';
import type { Nhi } from '../nhi/nhi.js';
import type { PolicyErrorCode, PolicyRule } from '../policy/policy.js';
import type { RequestBody, RequestErrorCode } from './request.js';
import type { ExecutorBinding, RequestAction } from '../core/vocabulary.js';
import { screenFreeText } from '../core/secrets.js';
import { limitExceeded, pinWindow } from './window.js';

/** What a requester submits; everything else in the body is set by the server. */
export interface RequestInput {
  readonly subject: string;
  readonly action: RequestAction;
  readonly tool?: ToolBinding;
  readonly connector?: string;
  readonly scope: Scope;
  readonly environment: string;
  readonly targets?: readonly string[];
  readonly executor: ExecutorBinding;
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly durationMs?: number;
  readonly maxUses?: number;
  readonly reason: string;
  readonly ticket?: string;
}

export interface BuildContext {
  readonly requester: PrincipalId;
  readonly nhi: Nhi;
  /** The rule the request falls under (`selectRule`), and the digest of its policy. */
  readonly rule: PolicyRule;
  readonly policyVersion: `sha256:${string}`;
  readonly now: Date;
  readonly nonce: string;
}

/**
 * Builds the immutable body of a new request and pins the rule it falls under.
 * Refuses what the rule does not allow: a requester naming themselves as executor
 * where it forbids that, a start further ahead than its lead time, a window longer
 * than its maximum, or more uses than it permits.
 */
export function buildRequestBody(input: RequestInput, ctx: BuildContext): RequestBody {
  screenFreeText({ reason: input.reason, ticket: input.ticket });
  const scope = normaliseScope(input.scope);
  // Only a tool call presents arguments to check. On any other request a constraint
  // would be shown to approvers and then bind nothing (a brokered credential would not
  // carry it), so it is refused rather than dropped.
  if (input.action !== 'tool_call' && scope.some((e) => e.constraints !== undefined)) {
    throw new CountersignError<CoreErrorCode>(
      'INVALID_SCOPE',
      `constraints bind a tool call's arguments; a ${input.action} request has none to check`,
    );
  }
  const tool = toolOf(input);
  const targets = brokered(input, scope) ?? [...new Set(input.targets ?? [])].sort();
  const { rule } = ctx;
  if (
    !rule.requesterMayExecute &&
    input.executor.kind === 'principal' &&
    input.executor.principal === ctx.requester
  ) {
    throw new CountersignError<PolicyErrorCode>(
      'SEPARATION_OF_DUTIES',
      `rule ${rule.name} does not let the requester be the executor`,
      { details: { rule: rule.name } },
    );
  }
  const { window, latestDecision } = pinWindow(input, rule, ctx.now);
  const maxUses = input.maxUses ?? 1;
  if (!Number.isSafeInteger(maxUses) || maxUses < 1) {
    throw new CountersignError<CoreErrorCode>(
      'VALIDATION_FAILED',
      'maxUses must be a positive integer',
    );
  }
  if (maxUses > rule.maxUses) {
    throw limitExceeded(rule, 'maxUses exceeds the maximum', { maxUses: rule.maxUses });
  }
  const body: RequestBody = {
    v: 1,
    requester: ctx.requester,
    subject: ctx.nhi.id,
    subjectKind: ctx.nhi.kind,
    subjectOwner: ctx.nhi.owner,
    action: input.action,
    ...(tool === undefined ? {} : { tool }),
    ...(input.connector === undefined ? {} : { connector: input.connector }),
    scope,
    environment: input.environment,
    targets,
    executor: input.executor,
    ...window,
    maxUses,
    reason: input.reason,
    ...(input.ticket === undefined ? {} : { ticket: input.ticket }),
    createdAt: ctx.now.toISOString(),
    pendingExpiresAt: new Date(
      Math.min(ctx.now.getTime() + rule.pendingExpiryMs, latestDecision ?? Infinity),
    ).toISOString(),
    nonce: ctx.nonce,
    policy: {
      version: ctx.policyVersion,
      rule: rule.name,
      requiredApprovals: rule.approvals.required,
      approverGroups: rule.approvals.groups,
      excludeOwner: rule.excludeOwner,
      requesterMayExecute: rule.requesterMayExecute,
    },
  };
  return body;
}

/**
 * A brokered grant's targets: the connector alone. Its scope names only concrete
 * resources of that connector, whose name is their second segment whatever its kind
 * (`pg/<connector>/…`, `webhook/<connector>/…`), which the connector will mint.
 */
function brokered(input: RequestInput, scope: Scope): string[] | undefined {
  const c = input.connector;
  if (c === undefined) return undefined;
  const fail = (why: string) =>
    new CountersignError<RequestErrorCode>('CONNECTOR_UNKNOWN', `connector ${c}: ${why}`);
  if (input.action !== 'grant') throw fail('only a grant request is brokered');
  for (const e of scope) {
    const parts = e.resource.split('/');
    if (parts[1] !== c || parts.includes('*')) {
      throw fail(`every scope resource must be a concrete resource of it, not ${e.resource}`);
    }
  }
  if ((input.targets ?? []).some((t) => t !== c)) {
    throw fail('a brokered grant has one target, the connector');
  }
  return [c];
}

/** The tool binding, present exactly when the action is a tool call. */
function toolOf(input: RequestInput): ToolBinding | undefined {
  if ((input.action === 'tool_call') !== (input.tool !== undefined)) {
    throw new CountersignError<ToolBindingErrorCode>(
      'INVALID_TOOL_BINDING',
      input.tool === undefined
        ? 'a tool_call request names its tool (server and name)'
        : 'only a tool_call request names a tool',
    );
  }
  return input.tool === undefined ? undefined : normaliseToolBinding(input.tool);
}

/** The request id: `sha256:` + hex digest of the body's canonical JSON. */
export function requestIdOf(body: RequestBody): RequestId {
  return digestOf(body) as RequestId;
}
