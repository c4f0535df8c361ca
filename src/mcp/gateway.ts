import type { AuthInfo, Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Readable, Writable } from 'node:stream';
import { downstreamServer } from './downstream.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from './forward.js';
import { forwardEveryCall, type ToolCallGate } from './gate.js';
import { httpEndpoint, MCP_PATH } from './http-endpoint.js';
import { listenHttp } from './node-http.js';
import { PendingWork } from './pending.js';
import { NotificationRelay } from './relay.js';
import { DEFAULT_MAX_MESSAGE_BYTES, LineTransport } from './stdio-transport.js';
import { DEFAULT_MAX_ARGUMENT_BYTES, type ToolCallDeps } from './tool-call.js';
import { connectUpstream, type UpstreamSpec } from './upstream.js';
import { isLoopbackHost } from '../core/loopback.js';

/** Where the agent's host reaches the gateway. */
export type DownstreamSpec =
  | {
      readonly kind: 'stdio';
      readonly input?: Readable;
      readonly output?: Writable;
    }
  | { readonly kind: 'http'; readonly host: string; readonly port: number };

export interface GatewayOptions {
  readonly upstream: UpstreamSpec;
  readonly downstream: DownstreamSpec;
  /** Decides every `tools/call`; by default each is forwarded. */
  readonly gate?: ToolCallGate;
  readonly maxArgumentBytes?: number;
  readonly maxMessageBytes?: number;
  readonly upstreamTimeoutMs?: number;
  readonly maxSessions?: number;
  /** Over HTTP: the most 2025-era sessions one authenticated agent holds (default 100). */
  readonly maxSessionsPerAgent?: number;
  /** Over HTTP: a 2025-era session idle this long is closed when room is needed (30 min). */
  readonly sessionIdleMs?: number;
  /** Over HTTP: authenticates each request's agent token (see agent-tokens.ts). */
  readonly authenticate?: (request: Request) => Promise<AuthInfo | Response>;
  /** Out-of-band problems (never the agent's arguments or results). */
  readonly report: (error: Error) => void;
}

export interface RunningGateway {
  /** The downstream MCP endpoint when serving HTTP (`http://host:port/mcp`). */
  readonly url: string | undefined;
  /** The protocol era of the gateway's connection upstream. */
  readonly upstreamEra: 'legacy' | 'modern';
  /** Resolves with why the gateway stopped; it stops when either side goes away. */
  readonly stopped: Promise<'closed' | 'downstream-closed' | 'upstream-closed'>;
  /** Stops serving, lets pending `after` hooks finish, and disconnects the upstream. */
  close(): Promise<void>;
}

/**
 * Connects to the upstream, then serves the agent's host: every request passes through
 * to the upstream, every `tools/call` crosses the gate first.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { report } = options;
  const upstream = await connectUpstream(options.upstream, report);
  const pending = new PendingWork(report);
  // With agent tokens, sessions speak for different agents: they share list changes only.
  const relay = new NotificationRelay(report, options.authenticate !== undefined);
  const deps: ToolCallDeps = {
    client: upstream.client,
    gate: options.gate ?? forwardEveryCall,
    limits: {
      maxArgumentBytes: options.maxArgumentBytes ?? DEFAULT_MAX_ARGUMENT_BYTES,
      upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    },
    pending,
    report,
  };
  let downstream: Downstream;
  try {
    await relay.listen(upstream.client);
    downstream = await serveDownstream(
      options,
      (era) => downstreamServer(upstream.info, deps, era, options.authenticate !== undefined),
      relay,
    );
  } catch (e) {
    await upstream.close().catch(report);
    throw e;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await downstream.stop().catch(report);
      await pending.drain();
      await upstream.close().catch(report);
    })());
  let requested!: () => void;
  const closeRequested = new Promise<void>((resolve) => (requested = resolve));
  const stopped = Promise.race([
    closeRequested.then(() => 'closed' as const),
    downstream.closed.then(() => 'downstream-closed' as const),
    upstream.closed.then(() => 'upstream-closed' as const),
  ]).then(async (why) => {
    await close();
    return why;
  });
  return {
    url: downstream.url,
    upstreamEra: upstream.info.era,
    stopped,
    close: async () => {
      requested();
      await stopped;
    },
  };
}

interface Downstream {
  readonly url: string | undefined;
  /** Resolves when the agent's host went away (stdio only: HTTP has no one host). */
  readonly closed: Promise<void>;
  stop(): Promise<void>;
}

async function serveDownstream(
  options: GatewayOptions,
  serverFor: (era: 'legacy' | 'modern') => Server,
  relay: NotificationRelay,
): Promise<Downstream> {
  const { report } = options;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const down = options.downstream;
  switch (down.kind) {
    case 'stdio': {
      const transport = new LineTransport(
        down.input ?? process.stdin,
        down.output ?? process.stdout,
        maxMessageBytes,
      );
      const handle = serveStdio(
        ({ era }) => {
          const server = serverFor(era);
          relay.attach(server, era);
          return server;
        },
        { transport, onerror: report },
      );
      return { url: undefined, closed: transport.whenClosed, stop: () => handle.close() };
    }
    case 'http': {
      const endpoint = httpEndpoint(
        (era) => {
          const server = serverFor(era);
          // A 2026-era server lives for one request; those sessions hear of changes
          // through the endpoint's notifier instead.
          if (era === 'legacy') relay.attach(server, era);
          return server;
        },
        {
          maxBodyBytes: maxMessageBytes,
          maxSessions: options.maxSessions ?? 1000,
          maxSessionsPerAgent: options.maxSessionsPerAgent ?? 100,
          sessionIdleMs: options.sessionIdleMs ?? 30 * 60_000,
          loopback: isLoopbackHost(down.host),
          report,
          ...(options.authenticate ? { authenticate: options.authenticate } : {}),
        },
      );
      relay.publishTo(endpoint.notifier);
      const listener = await listenHttp(
        down.host,
        down.port,
        (r) => endpoint.fetch(r),
        (e) => report(e as Error),
      );
      return {
        url: `${listener.url}${MCP_PATH}`,
        closed: new Promise<void>(() => undefined),
        stop: async () => {
          await endpoint.close();
          await listener.close();
        },
      };
    }
  }
}
