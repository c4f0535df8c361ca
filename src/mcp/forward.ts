import type { Client } from '@modelcontextprotocol/client';
import {
  ProtocolError,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { ProgressRelay, ProgressUpdate } from './progress.js';

/** A JSON-RPC result object as it travels through the gateway. */
export type WireResult = Record<string, unknown> & { _meta?: Record<string, unknown> };

type Params = Record<string, unknown> & { _meta?: Record<string, unknown> | undefined };

/** How long the gateway waits on the upstream for one request unless the agent gives up first. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * Sends one downstream request to the upstream as it came and returns the upstream's
 * answer as it came, with three hop-by-hop exceptions: the agent's progress token is
 * replaced by the SDK's own for the upstream hop (updates are relayed back under the
 * agent's), the agent's cancellation becomes a cancellation upstream, and the
 * upstream's self-identification in `_meta` is left for the downstream server to stamp.
 * A JSON-RPC error from the upstream reaches the agent with its code, message and data.
 */
export async function forwardRequest(
  client: Client,
  method: string,
  params: Params | undefined,
  ctx: ServerContext,
  options: { readonly timeoutMs: number; readonly progress: ProgressRelay },
): Promise<WireResult> {
  const { progress } = options;
  let result: WireResult;
  try {
    const sent = withoutProgressToken(params);
    result = (await client.request(
      // The method is any the downstream server accepted; 'ping' only satisfies the
      // method-keyed overload, whose result schema the SDK picks by the real name.
      { method: method as 'ping', ...(sent === undefined ? {} : { params: sent }) },
      {
        signal: ctx.mcpReq.signal,
        timeout: options.timeoutMs,
        ...(progress.wanted
          ? {
              onprogress: (p: ProgressUpdate) => progress.fromUpstream(p),
              resetTimeoutOnProgress: true,
            }
          : {}),
      },
    )) as WireResult;
  } catch (e) {
    throw asProtocolError(e);
  }
  return withoutServerInfo(result);
}

function withoutProgressToken(params: Params | undefined): Params | undefined {
  if (params?._meta === undefined || !('progressToken' in params._meta)) return params;
  const { progressToken: _dropped, ...meta } = params._meta;
  const { _meta: _old, ...rest } = params;
  return Object.keys(meta).length === 0 ? rest : { ...rest, _meta: meta };
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
