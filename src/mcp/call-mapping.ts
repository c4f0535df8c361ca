/**
 * One tool call, mapped onto countersign's vocabulary: the action a redemption presents,
 * and the request the gateway files when no warrant covers it. Pure: the authority
 * decides with these, the client carries them.
 */
import { digestOf } from '../core/canonical.js';
import { formatDuration } from '../core/duration.js';
import type { Scope, ScopeEntry } from '../core/scope.js';
import {
  argumentsDigestOf,
  MAX_DISCLOSED_ARGUMENT_BYTES,
  type ToolBinding,
  type ToolCallAction,
} from '../core/tool-binding.js';
import type { CreateRequestInput, RedeemInput, WarrantClaims } from '../client/types.js';

type RedemptionAction = RedeemInput['action'];
import type { GatingConfig, ToolRule } from './gating-config.js';
import { resourceOf, sessionResources } from './template.js';

type Scalar = string | number | boolean;

/** A gated call, mapped. */
export interface MappedCall {
  readonly tool: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly argumentsDigest: `sha256:${string}`;
  readonly resource: string;
  readonly permission: string;
  readonly target: string;
  readonly rule: ToolRule;
}

export type Mapping =
  | { readonly kind: 'mapped'; readonly call: MappedCall }
  /** The arguments name no resource, or lie outside what the tool's sessions may approve. */
  | { readonly kind: 'unmappable'; readonly code: 'ARGUMENTS_UNMAPPABLE'; readonly reason: string }
  | { readonly kind: 'outside'; readonly code: 'SCOPE_EXCEEDED'; readonly reason: string };

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * Maps a call. Its arguments must already be canonicalisable (the digest throws
 * `NON_CANONICAL_VALUE` otherwise, which the gateway answers as invalid params).
 */
export function mapCall(
  config: GatingConfig,
  rule: ToolRule,
  tool: string,
  args: Readonly<Record<string, unknown>>,
): Mapping {
  const argumentsDigest = argumentsDigestOf(args);
  const named = resourceOf(rule.resource, tool, args);
  if ('problem' in named) {
    return { kind: 'unmappable', code: 'ARGUMENTS_UNMAPPABLE', reason: named.problem };
  }
  if (typeof rule.pin !== 'string') {
    const missing = rule.pin.find((k) => !isScalar(args[k]));
    if (missing !== undefined) {
      return {
        kind: 'unmappable',
        code: 'ARGUMENTS_UNMAPPABLE',
        reason: `pinned argument ${missing} must be a string, number or boolean`,
      };
    }
  }
  for (const [k, allowed] of Object.entries(rule.session?.constraints ?? {})) {
    const v = args[k];
    if (!allowed.some((a) => typeof a === typeof v && a === v)) {
      return {
        kind: 'outside',
        code: 'SCOPE_EXCEEDED',
        reason: `argument ${k} lies outside what sessions of ${tool} may approve`,
      };
    }
  }
  return {
    kind: 'mapped',
    call: {
      tool,
      arguments: args,
      argumentsDigest,
      resource: named.resource,
      permission: rule.permission,
      target: rule.target ?? defaultTarget(config.server, tool),
      rule,
    },
  };
}

/** The call itself as a target: `<server>:<tool>`, with `/` (legal in tool names) as `.`. */
export function defaultTarget(server: string, tool: string): string {
  return `${server}:${tool.replaceAll('/', '.')}`;
}

/** The scope's argument constraints' names: the only values a redemption need present. */
export function constrainedNames(scope: Scope): string[] {
  return [...new Set(scope.flatMap((e) => Object.keys(e.constraints ?? {})))].sort();
}

/** The action this call presents to redeem a warrant with these claims. */
export function redemptionActionOf(
  config: GatingConfig,
  call: MappedCall,
  warrant: Pick<WarrantClaims, 'scope' | 'targets'>,
): RedemptionAction {
  const { scope } = warrant;
  const values: Record<string, Scalar> = {};
  for (const k of constrainedNames(scope)) {
    const v = call.arguments[k];
    if (isScalar(v)) values[k] = v;
  }
  const tool: ToolCallAction = {
    agent: config.subject,
    server: config.server,
    name: call.tool,
    argumentsDigest: call.argumentsDigest,
    ...(Object.keys(values).length > 0 ? { arguments: values } : {}),
  } as ToolCallAction;
  return {
    resource: call.resource,
    permission: call.permission,
    environment: config.environment,
    // A warrant that names no targets accepts none (its one target is `default`).
    ...(warrant.targets.length > 0 ? { target: call.target } : {}),
    tool,
  };
}

function pinnedBinding(config: GatingConfig, call: MappedCall): ToolBinding {
  const base = { server: config.server, name: call.tool };
  if (call.rule.session !== undefined || call.rule.pin !== 'all') return base;
  const disclose =
    config.discloseArguments &&
    Buffer.byteLength(JSON.stringify(call.arguments)) <= MAX_DISCLOSED_ARGUMENT_BYTES;
  return {
    ...base,
    argumentsDigest: call.argumentsDigest,
    ...(disclose ? { arguments: call.arguments } : {}),
  };
}

function scopeOf(call: MappedCall): ScopeEntry[] {
  const { rule } = call;
  const permissions = [call.permission];
  if (rule.session !== undefined) {
    const c = rule.session.constraints;
    const constraints = Object.fromEntries(Object.entries(c).map(([k, v]) => [k, { in: v }]));
    const named = Object.keys(constraints).length > 0 ? { constraints } : {};
    return sessionResources(rule.resource, call.tool, c, 256).map((resource) => ({
      resource,
      permissions,
      ...named,
    }));
  }
  if (typeof rule.pin !== 'string') {
    const constraints = Object.fromEntries(
      rule.pin.map((k) => [k, { in: [call.arguments[k] as Scalar] }]),
    );
    return [{ resource: call.resource, permissions, constraints }];
  }
  return [{ resource: call.resource, permissions }];
}

/** The request the gateway files on the agent's behalf for this call (or its session). */
export function requestInputOf(config: GatingConfig, call: MappedCall): CreateRequestInput {
  const session = call.rule.session;
  return {
    subject: config.subject,
    action: 'tool_call',
    tool: pinnedBinding(config, call),
    scope: scopeOf(call),
    environment: config.environment,
    targets: [call.target],
    executor: { principal: config.executor },
    duration: formatDuration(session?.durationMs ?? call.rule.durationMs),
    maxUses: session?.maxUses ?? 1,
    reason:
      config.reason ??
      `${config.subject} calls ${call.tool} on ${config.server}` +
        (session ? ` (a session of ${session.maxUses} calls)` : ''),
  } as CreateRequestInput;
}

/** Calls that one request would approve alike share a key, so one is filed for all. */
export function pendingKeyOf(config: GatingConfig, call: MappedCall): string {
  const input = requestInputOf(config, call);
  return digestOf({ ...input, reason: '' });
}
