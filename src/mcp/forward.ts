import {
  ProtocolError,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ProgressRelay } from './progress.js';
import type { UpstreamClient } from './upstream-client.js';

/** A JSON-RPC result object as it travels through the gateway. */
export type WireResult = Record<string, unknown> & { _meta?: Record<string, unknown> };

type Params = Record<string, unknown> & { _meta?: Record<string, unknown> | undefined };

/** How long the gateway waits on the upstream for one request unless the agent gives up first. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Sends one downstream request to the upstream as it came and returns the upstream's
 * answer as it came, with three hop-by-hop exceptions: the agent's progress token is
 * replaced by one of the gateway's for the upstream hop (updates are relayed back under
 * the agent's), the agent's cancellation becomes a cancellation upstream, and the
 * upstream's self-identification in `_meta` is left for the downstream server to stamp.
 * A JSON-RPC error from the upstream reaches the agent with its code, message and data.
 */
export async function forwardRequest(
  client: UpstreamClient,
  method: string,
  params: Params | undefined,
  ctx: ServerContext,
  options: { readonly timeoutMs: number; readonly progress: ProgressRelay },
): Promise<WireResult> {
  const { progress } = options;
  const watch = progress.wanted ? client.watchProgress((p) => progress.fromUpstream(p)) : undefined;
  const sent = withProgressToken(params, watch?.token);
  let result: WireResult;
  try {
    result = (await client.request(
      // The method is any the downstream server accepted; 'ping' only satisfies the
      // method-keyed overload, whose result schema the SDK picks by the real name.
      { method: method as 'ping', ...(sent === undefined ? {} : { params: sent }) },
      { signal: ctx.mcpReq.signal, timeout: options.timeoutMs },
    )) as WireResult;
  } catch (e) {
    throw asProtocolError(e);
  } finally {
    watch?.done();
  }
  return withoutServerInfo(result);
}

/** The params with the agent's progress token replaced by the gateway's (or removed). */
function withProgressToken(
  params: Params | undefined,
  token: string | undefined,
): Params | undefined {
  const { progressToken: _agents, ...meta } = params?._meta ?? {};
  const { _meta: _old, ...rest } = params ?? {};
  const next = token === undefined ? meta : { ...meta, progressToken: token };
  if (Object.keys(next).length > 0) return { ...rest, _meta: next };
  return params === undefined ? undefined : rest;
}

function withoutServerInfo(result: WireResult): WireResult {
  if (result._meta === undefined || !(SERVER_INFO_META_KEY in result._meta)) return result;
  const { [SERVER_INFO_META_KEY]: _dropped, ...meta } = result._meta;
  const { _meta: _old, ...rest } = result;
  return Object.keys(meta).length === 0 ? rest : { ...rest, _meta: meta };
}

/**
 * A JSON-RPC error from the upstream passes as it is. Anything else (the connection
 * failed, the upstream timed out) is the gateway's own internal error, naming the cause.
 */
export function asProtocolError(e: unknown): Error {
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'number') return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new ProtocolError(ProtocolErrorCode.InternalError, `the upstream failed: ${reason}`);
}
