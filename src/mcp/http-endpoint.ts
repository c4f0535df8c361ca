import { randomUUID } from 'node:crypto';
import {
  createMcpHandler,
  hostHeaderValidationResponse,
  isInitializeRequest,
  isLegacyRequest,
  localhostAllowedHostnames,
  localhostAllowedOrigins,
  originValidationResponse,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type Server,
  type ServerNotifier,
} from '@modelcontextprotocol/server';
import { readCapped } from '../core/http-read.js';
import {
  DUPLICATE_KEY_MESSAGE,
  DuplicateKeyError,
  PARSE_ERROR,
  parseMessageText,
} from './message-text.js';

/** The path the gateway serves MCP on, as most MCP servers do. */
export const MCP_PATH = '/mcp';

export interface HttpEndpointOptions {
  /** Requests with bigger bodies are refused (413) before anything parses them. */
  readonly maxBodyBytes: number;
  /** The most 2025-era sessions held at once; an `initialize` beyond it answers 503. */
  readonly maxSessions: number;
  /** The most 2025-era sessions one authenticated agent holds at once (503 beyond). */
  readonly maxSessionsPerAgent: number;
  /** A 2025-era session with no request for this long is closed when room is needed. */
  readonly sessionIdleMs: number;
  /** Bound to a loopback address: refuse foreign Host and Origin headers (DNS rebinding). */
  readonly loopback: boolean;
  readonly report: (error: Error) => void;
  /**
   * Authenticates each request (a Bearer agent token): the verified identity, or the
   * answer that refuses it (401 with a challenge). None: every request is served.
   */
  readonly authenticate?: (request: Request) => Promise<AuthInfo | Response>;
}

/** The downstream Streamable HTTP endpoint: one `fetch` face for both protocol eras. */
export interface HttpEndpoint {
  readonly fetch: (request: Request) => Promise<Response>;
  /** Publishes change notifications to 2026-era `subscriptions/listen` streams. */
  readonly notifier: ServerNotifier;
  close(): Promise<void>;
}

/**
 * 2026-era requests go to the SDK's per-request handler. 2025-era traffic goes to one
 * sessionful transport per session, as in the SDK's `examples/legacy-routing`: the SDK's
 * default for it is stateless, which would lose what the gateway must pass through
 * (a `notifications/cancelled` POSTed for a running call, the GET stream that carries
 * list changes).
 */
export function httpEndpoint(
  serverFor: (era: 'legacy' | 'modern') => Server,
  options: HttpEndpointOptions,
): HttpEndpoint {
  const modern = createMcpHandler(({ era }) => serverFor(era), {
    legacy: 'reject',
    maxRequestBodySize: options.maxBodyBytes,
    onerror: options.report,
  });
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  /** Per 2025-era session: the agent its initialize authenticated as, for good. */
  const agentOf = new Map<string, string>();
  /** Per 2025-era session: when it last sent a request. */
  const lastSeen = new Map<string, number>();

  /** Closes the sessions idle past the bound, so abandoned ones do not hold the room. */
  async function closeIdle(): Promise<void> {
    const before = Date.now() - options.sessionIdleMs;
    const idle = [...lastSeen].filter(([, at]) => at < before).map(([sid]) => sid);
    for (const sid of idle) await sessions.get(sid)?.close();
  }

  async function legacy(request: Request, authInfo: AuthInfo | undefined): Promise<Response> {
    const id = request.headers.get('mcp-session-id');
    if (id !== null) {
      const transport = sessions.get(id);
      if (transport === undefined) return jsonRpcError(404, -32001, 'Session not found');
      // A session never changes whom it speaks for, whatever token comes later.
      if (authInfo !== undefined && agentOf.get(id) !== authInfo.clientId) {
        return jsonRpcError(
          403,
          -32000,
          'Forbidden: the token names another agent than this session',
        );
      }
      lastSeen.set(id, Date.now());
      return transport.handleRequest(request, authInfo ? { authInfo } : {});
    }
    if (request.method !== 'POST') {
      return jsonRpcError(400, -32000, 'Bad Request: an Mcp-Session-Id header is required');
    }
    let body: unknown;
    try {
      body = parseMessageText(await request.text());
    } catch (e) {
      return jsonRpcError(
        400,
        PARSE_ERROR,
        e instanceof DuplicateKeyError ? e.message : 'Parse error',
      );
    }
    if (!isInitializeRequest(body)) {
      return jsonRpcError(400, -32000, 'Bad Request: send initialize to open a session first');
    }
    await closeIdle();
    if (sessions.size >= options.maxSessions) {
      return jsonRpcError(503, -32000, 'Too many sessions: close one, or try again later');
    }
    // One agent cannot take the room of every other.
    const agent = authInfo?.clientId;
    if (
      agent !== undefined &&
      [...agentOf.values()].filter((a) => a === agent).length >= options.maxSessionsPerAgent
    ) {
      return jsonRpcError(503, -32000, 'Too many sessions for this agent: close one first');
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        sessions.set(sid, transport);
        lastSeen.set(sid, Date.now());
        if (authInfo !== undefined) agentOf.set(sid, authInfo.clientId);
      },
      maxRequestBodySize: options.maxBodyBytes,
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) {
        sessions.delete(transport.sessionId);
        agentOf.delete(transport.sessionId);
        lastSeen.delete(transport.sessionId);
      }
    };
    await serverFor('legacy').connect(transport);
    return transport.handleRequest(request, {
      parsedBody: body,
      ...(authInfo ? { authInfo } : {}),
    });
  }

  return {
    async fetch(request) {
      if (new URL(request.url).pathname !== MCP_PATH) {
        return new Response('Not Found', { status: 404 });
      }
      const refused = options.loopback
        ? (hostHeaderValidationResponse(request, localhostAllowedHostnames()) ??
          originValidationResponse(request, localhostAllowedOrigins()))
        : undefined;
      if (refused !== undefined) return refused;
      let authInfo: AuthInfo | undefined;
      if (options.authenticate !== undefined) {
        const auth = await options.authenticate(request);
        if (auth instanceof Response) return auth;
        authInfo = auth;
      }
      if (await holdsDuplicateKey(request, options.maxBodyBytes)) {
        return jsonRpcError(400, PARSE_ERROR, DUPLICATE_KEY_MESSAGE);
      }
      const legacyTraffic = await isLegacyRequest(request, undefined, {
        maxRequestBodySize: options.maxBodyBytes,
      });
      return legacyTraffic
        ? legacy(request, authInfo)
        : modern.fetch(request, authInfo ? { authInfo } : {});
    },
    notifier: modern.notify,
    async close() {
      await modern.close();
      await Promise.all([...sessions.values()].map((t) => t.close()));
    },
  };
}

/**
 * Whether a posted JSON body names a key twice in one object (see `parseMessageText`),
 * read from a copy so the SDK still reads the request itself. A body over the limit is
 * left to the SDK, which refuses it without reading it all.
 */
async function holdsDuplicateKey(request: Request, maxBytes: number): Promise<boolean> {
  if (request.method !== 'POST' || request.body === null) return false;
  if (!/^application\/json\b/i.test(request.headers.get('content-type') ?? '')) return false;
  const text = await readCapped(request.clone(), maxBytes);
  if (text === null) return false;
  try {
    parseMessageText(text);
    return false;
  } catch (e) {
    return e instanceof DuplicateKeyError;
  }
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', id: null, error: { code, message } }, { status });
}
