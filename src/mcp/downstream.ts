import { Server, type ServerCapabilities } from '@modelcontextprotocol/server';
import { forwardRequest } from './forward.js';
import { ProgressRelay } from './progress.js';
import { toolCallHandler, type ToolCallDeps } from './tool-call.js';
import type { UpstreamInfo } from './upstream.js';

/**
 * The spec methods the gateway forwards as they come, by the upstream capability that
 * makes the upstream answer them. `tools/call` is not here: it crosses the gate.
 * `ping`, `initialize` and `server/discover` are answered by the downstream server
 * itself, as each hop's own business. Any other method, extension methods included,
 * is "method not found": a gate cannot judge what an unknown method would do.
 */
const FORWARDED = {
  tools: ['tools/list'],
  resources: ['resources/list', 'resources/templates/list', 'resources/read'],
  prompts: ['prompts/list', 'prompts/get'],
  completions: ['completion/complete'],
  logging: ['logging/setLevel'],
  subscriptions: ['resources/subscribe', 'resources/unsubscribe'],
} as const;

type ForwardedMethod = (typeof FORWARDED)[keyof typeof FORWARDED][number];

/**
 * What the gateway advertises: the upstream's capabilities, less what it cannot pass on.
 * Tasks, extensions and experimental features would need methods it does not forward.
 * Logging levels and resource subscriptions are session state of the 2025 era, which
 * the gateway forwards only when its own connection upstream is of that era too.
 */
export function advertisedCapabilities(info: UpstreamInfo, shared = false): ServerCapabilities {
  const c = info.capabilities as ServerCapabilities;
  const legacy = info.era === 'legacy';
  // Sessions of different agents share the one upstream connection: one agent's log level
  // or resource subscription would act for all, and what they bring is not relayed.
  const { subscribe: _subscribe, ...unsubscribed } = c.resources ?? {};
  const resources =
    c.resources === undefined
      ? undefined
      : legacy
        ? shared
          ? unsubscribed
          : c.resources
        : {
            ...(c.resources.listChanged === undefined
              ? {}
              : { listChanged: c.resources.listChanged }),
          };
  return {
    ...(c.tools === undefined ? {} : { tools: c.tools }),
    ...(resources === undefined ? {} : { resources }),
    ...(c.prompts === undefined ? {} : { prompts: c.prompts }),
    ...(c.completions === undefined ? {} : { completions: c.completions }),
    ...(c.logging === undefined || !legacy || shared ? {} : { logging: c.logging }),
  };
}

/**
 * A downstream server for one serving unit (a stdio connection, a 2025-era HTTP session,
 * or one 2026-era HTTP request): it introduces itself as the upstream does and forwards
 * every request it accepts to the one upstream connection.
 */
export function downstreamServer(
  info: UpstreamInfo,
  deps: ToolCallDeps,
  era: 'legacy' | 'modern',
  shared = false,
): Server {
  const capabilities = advertisedCapabilities(info, shared);
  const server = new Server(
    { ...info.serverInfo },
    {
      capabilities,
      ...(info.instructions === undefined ? {} : { instructions: info.instructions }),
    },
  );
  server.onerror = deps.report;
  const offered: Record<keyof typeof FORWARDED, boolean> = {
    tools: capabilities.tools !== undefined,
    resources: capabilities.resources !== undefined,
    prompts: capabilities.prompts !== undefined,
    completions: capabilities.completions !== undefined,
    logging: capabilities.logging !== undefined,
    subscriptions: capabilities.resources?.subscribe === true,
  };
  for (const [capability, methods] of Object.entries(FORWARDED)) {
    if (!offered[capability as keyof typeof FORWARDED]) continue;
    for (const method of methods) forward(server, method, deps);
  }
  if (offered.tools) server.setRequestHandler('tools/call', toolCallHandler(deps, era));
  return server;
}

function forward(server: Server, method: ForwardedMethod, deps: ToolCallDeps): void {
  server.setRequestHandler(
    method,
    (request, ctx) =>
      forwardRequest(deps.client, method, request.params, ctx, {
        timeoutMs: deps.limits.upstreamTimeoutMs,
        progress: new ProgressRelay(ctx, deps.report),
      }) as Promise<never>,
  );
}
