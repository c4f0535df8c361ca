/**
 * The one seam every `tools/call` crosses on its way upstream. Everything else the
 * gateway passes through unchanged; whether a tool call is forwarded, and what is
 * reported once it has run, is the gate's alone to decide.
 *
 * The gate of this milestone forwards everything ({@link forwardEveryCall}). The
 * warrant gate (look up or redeem a warrant bound to the agent, the tool and the
 * argument digest; otherwise request one) implements the same interface.
 */

/** A tool call as the agent sent it, after the gateway's input limits. */
export interface ToolCall {
  /** The tool's name. */
  readonly name: string;
  /** The arguments object as received (`{}` when the agent sent none). */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The downstream protocol era the call arrived on. */
  readonly era: 'legacy' | 'modern';
  /** The downstream session (a 2025-era Streamable HTTP session), if there is one. */
  readonly sessionId: string | undefined;
  /** The agent the downstream request's verified token names (HTTP with agent tokens only). */
  readonly agent: string | undefined;
}

/** A tool result in the MCP wire shape (`content`, `structuredContent`, `isError`, `_meta`). */
export type ToolResult = Readonly<Record<string, unknown>> & {
  readonly content?: readonly unknown[];
  readonly isError?: boolean;
  readonly _meta?: Readonly<Record<string, unknown>>;
};

/** What the gate decided for one call. */
export type GateDecision =
  /** Forward the call; `meta` is merged into the upstream result's `_meta` (e.g. a receipt). */
  | { readonly kind: 'forward'; readonly meta?: Readonly<Record<string, unknown>> }
  /** Answer the agent with `result` (usually `isError: true`) and never forward the call. */
  | { readonly kind: 'refuse'; readonly result: ToolResult };

/** How a forwarded call ended, for the fulfilment report. */
export type CallOutcome =
  /** The upstream answered with a result; `result.isError` says whether the tool failed. */
  | { readonly kind: 'returned'; readonly result: ToolResult }
  /** The upstream answered with a JSON-RPC error, or the connection to it failed. */
  | { readonly kind: 'failed'; readonly reason: string }
  /** The agent cancelled the call before the upstream answered. */
  | { readonly kind: 'cancelled' };

/** What the gate may do to the agent's request while it decides. */
export interface GateContext {
  /** Aborted when the agent cancels the call or goes away. */
  readonly signal: AbortSignal;
  /**
   * Sends the agent a progress notification for this call (a no-op when the agent asked
   * for none): how a gate that holds a call while approvers decide keeps it alive.
   */
  progress(message: string): Promise<void>;
}

/** The seam. */
export interface ToolCallGate {
  /** Decides before anything reaches the upstream. A throw answers the agent with an error. */
  decide(call: ToolCall, context: GateContext): Promise<GateDecision>;
  /**
   * Runs once for every forwarded call, after the agent has its answer (a refused call is
   * never forwarded, so has no outcome). The gateway waits for these hooks before it exits.
   */
  after(call: ToolCall, outcome: CallOutcome): Promise<void>;
}

/** The gate of the pass-through proxy: forwards every call and reports nothing. */
export const forwardEveryCall: ToolCallGate = {
  decide: async () => ({ kind: 'forward' }),
  after: async () => undefined,
};
