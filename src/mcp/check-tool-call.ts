/**
 * countersign's tool-call check for agent frameworks that do not speak MCP
 * (`countersign/agent`): the question the MCP gateway asks before it forwards a call,
 * asked in-process. Claude Code's PreToolUse hook, OpenAI Agents' `needsApproval` or a
 * LangGraph `interrupt` call it with the tool and its arguments, run the tool only on
 * `allowed`, and report how it ended.
 *
 * @example
 * ```ts
 * import { checkToolCall } from 'countersign/agent';
 * const check = await checkToolCall({ server: 'orders-db', tool: 'query', arguments: args });
 * if (!check.allowed) return refuse(check.message); // e.g. "approval needed: request sha256:…"
 * const result = await runTool(args);
 * await check.report(result.ok ? 'success' : 'failure');
 * ```
 */
import { CountersignClient } from '../client/index.js';
import type { RequestMemory } from './approvals.js';
import { ToolCallAuthority, type Allowed, type Refused } from './authority.js';
import { gatingConfigOf, readGatingConfig, type GatingConfig } from './gating-config.js';

export type { RequestMemory } from './approvals.js';
export type { Refused } from './authority.js';

export interface ToolCallInput {
  /** The MCP server (or tool provider) as the gating config names it. */
  readonly server: string;
  readonly tool: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
}

export type ToolCallCheck =
  | {
      readonly allowed: true;
      /** Whether the call crossed a warrant (false: the config leaves the tool ungated). */
      readonly gated: boolean;
      /** The signed receipt of the use it spent, when gated. */
      readonly receipt: string | undefined;
      /** The target its fulfilment names, when gated (to report from another process). */
      readonly target: string | undefined;
      /** The arguments' digest, when gated: its fulfilment's fingerprint. */
      readonly argumentsDigest: string | undefined;
      /** Reports how the call ended, as a fulfilment of its target (a no-op when ungated). */
      report(outcome: 'success' | 'failure', detail?: string): Promise<void>;
    }
  | ({ readonly allowed: false } & Omit<Refused, 'kind'>);

export interface CheckerOptions {
  /** The countersign server (default `COUNTERSIGN_ADDR`, else http://127.0.0.1:8470). */
  readonly addr?: string;
  /** The caller's credential: requester and executor (default `COUNTERSIGN_TOKEN`). */
  readonly token?: string;
  /** The gating config as an object, or a YAML file (default `COUNTERSIGN_GATEWAY_CONFIG`). */
  readonly config?: string | Record<string, unknown>;
  /** Hold a call this long for approvers to decide (default 0: answer at once). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Remembers the requests filed across processes (a hook runs once per call), so a
   * retry before approval finds its pending request instead of filing another.
   */
  readonly memory?: RequestMemory;
}

export interface ToolCallChecker {
  /** The server its config gates: calls to any other are refused (`TOOL_MISMATCH`). */
  readonly server: string;
  check(call: ToolCallInput): Promise<ToolCallCheck>;
}

/** A checker bound to one server and config, holding the warrants it picks up. */
export function toolCallChecker(o: CheckerOptions = {}): ToolCallChecker {
  const config = configOf(o.config ?? process.env.COUNTERSIGN_GATEWAY_CONFIG);
  const client = new CountersignClient({
    baseUrl: o.addr ?? process.env.COUNTERSIGN_ADDR ?? 'http://127.0.0.1:8470',
    token: o.token ?? process.env.COUNTERSIGN_TOKEN,
    userAgent: 'countersign-agent',
  });
  const authority = new ToolCallAuthority(client, config, {
    ...(o.waitMs ? { waitMs: o.waitMs } : {}),
    ...(o.memory ? { memory: o.memory } : {}),
  });
  const check = async (call: ToolCallInput): Promise<ToolCallCheck> => {
    if (call.server !== config.server) {
      return {
        allowed: false,
        code: 'TOOL_MISMATCH',
        message: `this checker gates ${config.server}, not ${call.server}`,
      };
    }
    const v = await authority.check(call.tool, call.arguments ?? {}, {
      ...(o.signal ? { signal: o.signal } : {}),
    });
    switch (v.kind) {
      case 'ungated':
        return {
          allowed: true,
          gated: false,
          receipt: undefined,
          target: undefined,
          argumentsDigest: undefined,
          report: async () => undefined,
        };
      case 'allow':
        return {
          allowed: true,
          gated: true,
          receipt: v.receipt,
          target: v.target,
          argumentsDigest: v.argumentsDigest,
          report: reporter(authority, v),
        };
      case 'refuse': {
        const { kind: _kind, ...refusal } = v;
        return { allowed: false, ...refusal };
      }
    }
  };
  return { server: config.server, check };
}

let shared: ToolCallChecker | undefined;

/**
 * Checks one call with the checker configured from the environment (`COUNTERSIGN_ADDR`,
 * `COUNTERSIGN_TOKEN`, `COUNTERSIGN_GATEWAY_CONFIG`), or with `options` when given.
 */
export function checkToolCall(
  call: ToolCallInput,
  options?: CheckerOptions,
): Promise<ToolCallCheck> {
  if (options !== undefined) return toolCallChecker(options).check(call);
  shared ??= toolCallChecker();
  return shared.check(call);
}

function configOf(c: string | Record<string, unknown> | undefined): GatingConfig {
  if (c === undefined) {
    throw new TypeError(
      'checkToolCall needs a gating config: options.config or COUNTERSIGN_GATEWAY_CONFIG',
    );
  }
  return typeof c === 'string' ? readGatingConfig(c) : gatingConfigOf(c, 'options.config');
}

function reporter(authority: ToolCallAuthority, allowed: Allowed) {
  return (outcome: 'success' | 'failure', detail?: string) =>
    authority.report(allowed, outcome, detail);
}
