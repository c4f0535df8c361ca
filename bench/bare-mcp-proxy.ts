import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

// The baseline for the gateway: the least an MCP proxy built with the same SDK does for a
// tools/call. One upstream client (the same era negotiation), one downstream server per
// connection, each tools/call forwarded as it came: no gate, no limits, no progress or
// cancellation relay. Usage: bare-mcp-proxy CMD ARGS…
const [command, ...args] = process.argv.slice(2);
const client = new Client(
  { name: 'bare-proxy', version: '1.0.0' },
  { versionNegotiation: { mode: 'auto' } },
);
await client.connect(new StdioClientTransport({ command: command as string, args }));
const info = client.getServerVersion() ?? { name: 'upstream', version: '0' };
serveStdio(() => {
  const server = new Server(info, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', () => client.request({ method: 'tools/list' }));
  server.setRequestHandler('tools/call', (request) =>
    client.request({ method: 'tools/call', params: request.params }),
  );
  return server;
});
