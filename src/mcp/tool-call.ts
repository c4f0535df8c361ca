import type { UpstreamClient } from './upstream-client.js';
import {
  ProtocolError,
  ProtocolErrorCode,
  type CallToolRequest,
  type CallToolResult,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { assertStrictlyCanonical } from '../core/canonical.js';
import { AGENT_KEY } from './agent-tokens.js';
import { forwardRequest, type WireResult } from './forward.js';
import type { CallOutcome, GateDecision, ToolCall, ToolCallGate } from './gate.js';
import type { PendingWork } from './pending.js';
import { ProgressRelay } from './progress.js';

/** Limits on what the gateway accepts from the agent. */
export interface ToolCallLimits {
  /** The largest `arguments` object, in bytes of its JSON text. */
  readonly maxArgumentBytes: number;
  /** How long to wait on the upstream for one call. */
  readonly upstreamTimeoutMs: number;
}

/** 1 MiB: any real tool's arguments fit, and the gate must hash what it admits. */
export const DEFAULT_MAX_ARGUMENT_BYTES = 1024 * 1024;

export interface ToolCallDeps {
  readonly client: UpstreamClient;
  readonly gate: ToolCallGate;
  readonly limits: ToolCallLimits;
  readonly pending: PendingWork;
  readonly report: (error: Error) => void;
}

/**
 * The gateway's `tools/call`: limits, then the gate, then (if the gate forwards) the
 * upstream, then the gate's `after` hook with the outcome. The SDK has validated the
 * request's shape before this runs.
 */
export function toolCallHandler(
  deps: ToolCallDeps,
  era: 'legacy' | 'modern',
): (request: CallToolRequest, ctx: ServerContext) => Promise<CallToolResult> {
  return async (request, ctx) => {
    const { name, arguments: args = {} } = request.params;
    // Run as a task, the upstream would answer before the tool ran, and the gateway would
    // report the use fulfilled then; it does not offer tasks, so none is asked for.
    if ((request.params as { task?: unknown }).task !== undefined) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        'the gateway runs tool calls in the foreground: task-augmented calls are not supported',
      );
    }
    const bytes = Buffer.byteLength(JSON.stringify(args));
    if (bytes > deps.limits.maxArgumentBytes) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `the arguments of ${name} are ${bytes} bytes of JSON, over the gateway's limit of ${deps.limits.maxArgumentBytes}`,
        { limit: deps.limits.maxArgumentBytes },
      );
    }
    try {
      // What no digest can cover cannot be approved, nor forwarded as sent (1e400 is
      // Infinity by now, which JSON would carry on as null).
      assertStrictlyCanonical(args);
    } catch (e) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `the arguments of ${name} have no RFC 8785 form: ${(e as Error).message}`,
      );
    }
    const agent = ctx.http?.authInfo?.extra?.[AGENT_KEY];
    const call: ToolCall = {
      name,
      arguments: args,
      era,
      sessionId: ctx.sessionId,
      agent: typeof agent === 'string' ? agent : undefined,
    };
    const progress = new ProgressRelay(ctx, deps.report);
    const decision: GateDecision = await deps.gate.decide(call, {
      signal: ctx.mcpReq.signal,
      progress: (message) => progress.fromGate(message),
    });
    switch (decision.kind) {
      case 'refuse':
        return decision.result as CallToolResult;
      case 'forward': {
        let result: WireResult;
        try {
          result = await forwardRequest(deps.client, 'tools/call', request.params, ctx, {
            timeoutMs: deps.limits.upstreamTimeoutMs,
            progress,
          });
        } catch (e) {
          const outcome: CallOutcome = ctx.mcpReq.signal.aborted
            ? { kind: 'cancelled' }
            : { kind: 'failed', reason: (e as Error).message };
          deps.pending.track(deps.gate.after(call, outcome));
          throw e;
        }
        deps.pending.track(deps.gate.after(call, { kind: 'returned', result }));
        return withMeta(result, decision.meta) as CallToolResult;
      }
    }
  };
}

function withMeta(result: WireResult, meta: Readonly<Record<string, unknown>> | undefined) {
  return meta === undefined ? result : { ...result, _meta: { ...result._meta, ...meta } };
}
