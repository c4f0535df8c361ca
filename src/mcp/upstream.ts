import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { withoutCountersignVariables } from '../core/child-env.js';
import { McpGatewayError } from './errors.js';
import { UpstreamClient } from './upstream-client.js';

/** Where the upstream MCP server is: a command the gateway runs, or a URL. */
export type UpstreamSpec =
  | { readonly kind: 'stdio'; readonly command: string; readonly args: readonly string[] }
  | { readonly kind: 'http'; readonly url: URL };

/** What the upstream said about itself when the gateway connected. */
export interface UpstreamInfo {
  readonly serverInfo: { readonly name: string; readonly version: string } & Record<
    string,
    unknown
  >;
  readonly capabilities: Readonly<Record<string, unknown>>;
  readonly instructions: string | undefined;
  /** The protocol era of the gateway's own connection to the upstream. */
  readonly era: 'legacy' | 'modern';
}

/** One connection to the upstream, shared by every downstream session. */
export interface Upstream {
  readonly client: UpstreamClient;
  readonly info: UpstreamInfo;
  /** Resolves when the connection ends, whoever ended it. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

const CLIENT_INFO = { name: 'countersign-mcp-gateway', version: '0.1.0' };

/**
 * Connects to the upstream, negotiating the protocol era (`server/discover` first, the
 * 2025 `initialize` handshake when the upstream does not know it). A gateway is a
 * long-lived process, so the probe's cost (on stdio, a short-lived sibling process) is
 * paid once.
 */
export async function connectUpstream(
  spec: UpstreamSpec,
  report: (error: Error) => void,
): Promise<Upstream> {
  const client = new UpstreamClient(CLIENT_INFO, { versionNegotiation: { mode: 'auto' } });
  let ended!: () => void;
  const closed = new Promise<void>((resolve) => (ended = resolve));
  client.onclose = () => ended();
  client.onerror = report;
  const transport =
    spec.kind === 'stdio'
      ? new StdioClientTransport({
          command: spec.command,
          args: [...spec.args],
          // The gateway's own token is for countersign alone, not for the upstream.
          env: withoutCountersignVariables(process.env),
          stderr: 'inherit',
        })
      : new StreamableHTTPClientTransport(spec.url);
  try {
    await client.connect(transport);
  } catch (e) {
    await client.close().catch(() => undefined);
    const where = spec.kind === 'stdio' ? `the command ${spec.command}` : spec.url.origin;
    throw new McpGatewayError(
      'UPSTREAM_UNREACHABLE',
      `cannot connect to the upstream MCP server (${where}): ${(e as Error).message}`,
      { cause: e },
    );
  }
  const serverInfo = client.getServerVersion() ?? { name: 'upstream', version: 'unknown' };
  return {
    client,
    info: {
      serverInfo,
      capabilities: client.getServerCapabilities() ?? {},
      instructions: client.getInstructions(),
      era: client.getProtocolEra() ?? 'legacy',
    },
    closed,
    close: () => client.close(),
  };
}

/** Parses `--upstream-url`: an absolute http(s) URL. */
export function upstreamUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new McpGatewayError('UPSTREAM_URL_INVALID', 'the upstream URL is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new McpGatewayError('UPSTREAM_URL_INVALID', 'the upstream URL must be http or https');
  }
  return url;
}
