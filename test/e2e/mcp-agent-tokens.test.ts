import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGateway } from '../helpers/mcp-gateway.js';
import { approve, refusalOf, toolRequests, type ToolAnswer } from '../helpers/mcp-gating.js';
import { CounterFile, HttpUpstream } from '../helpers/mcp-upstream.js';
import { TestIssuer } from '../helpers/oidc-issuer.js';
import { TestServer } from '../helpers/server.js';

/**
 * One gateway over Streamable HTTP serving two agents, each naming itself by the
 * workload token it presents: each is asked about, and spends, only its own approvals.
 */

const AUDIENCE = 'countersign-mcp-gateway';
let s: TestServer;
let issuer: TestIssuer;
let counter: CounterFile;
let upstream: HttpUpstream;
let gateway: HttpGateway;
const names = { a: `tok-a-${process.pid}`, b: `tok-b-${process.pid}` };
const agents = { a: `agent:${names.a}`, b: `agent:${names.b}` };

beforeAll(async () => {
  [s, issuer] = await Promise.all([TestServer.start(), TestIssuer.start()]);
  for (const id of Object.values(agents)) {
    const r = await s.http('POST', '/v1/nhis', {
      as: 'admin',
      body: { id, kind: 'ai_agent', owner: 'team-data' },
    });
    expect(r.status, r.text).toBe(201);
  }
  counter = new CounterFile();
  const config = join(counter.dir, 'gateway.yaml');
  writeFileSync(
    config,
    [
      'server: orders-db',
      'environment: staging',
      'executor: mcp-gateway',
      'gated: [query]',
      'agentTokens:',
      `  issuer: ${issuer.issuer}`,
      `  audience: ${AUDIENCE}`,
      `  jwksUri: ${issuer.jwksUri}`,
      "  subject: 'agent:{sub}'",
      '',
    ].join('\n'),
  );
  upstream = await HttpUpstream.start(counter);
  gateway = await HttpGateway.startWith(
    { COUNTERSIGN_ADDR: s.url, COUNTERSIGN_TOKEN: s.tokens['mcp-gateway'] },
    '--gateway-config',
    config,
    '--upstream-url',
    upstream.url,
  );
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await upstream?.stop();
  counter?.remove();
  await s?.stop();
  await issuer?.close();
});

const tokenFor = (sub: string, audience = AUDIENCE) =>
  issuer.sign({ sub, aud: audience, exp: Math.floor(Date.now() / 1000) + 600 });

async function connect(token: string | undefined): Promise<{ client: Client; session: string }> {
  const transport = new StreamableHTTPClientTransport(new URL(gateway.url), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(transport);
  return { client, session: transport.sessionId ?? '' };
}

const call = async (client: Client, table: string): Promise<ToolAnswer> =>
  (await client.callTool({
    name: 'query',
    arguments: { table, sql: 'select 1' },
  })) as unknown as ToolAnswer;

describe('a gateway that names each agent by its token', () => {
  it('refuses a session without a token, or with one for another audience', async () => {
    await expect(connect(undefined)).rejects.toThrow();
    await expect(connect(await tokenFor(names.a, 'someone-else'))).rejects.toThrow();
  });

  it("asks for and spends each agent's own approvals, never the other's", async () => {
    const a = await connect(await tokenFor(names.a));
    const b = await connect(await tokenFor(names.b));
    try {
      const asked = await call(a.client, 'orders');
      expect(refusalOf(asked)).toBe('APPROVAL_REQUIRED');
      expect(await toolRequests(s, agents.a)).toHaveLength(1);
      await approve(s, asked._meta?.['countersign/refusal']?.request?.id ?? '');

      const ran = await call(a.client, 'orders');
      expect(ran.isError).toBeFalsy();
      expect(ran._meta?.['countersign/receipt']?.use).toBe(1);

      // B calls the very same thing: A's approval is not B's.
      expect(refusalOf(await call(b.client, 'orders'))).toBe('APPROVAL_REQUIRED');
      expect(await toolRequests(s, agents.b)).toHaveLength(1);
      expect(counter.read().calls.query).toBe(1);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it("refuses another agent's token on an agent's session", async () => {
    const a = await connect(await tokenFor(names.a));
    try {
      const r = await fetch(gateway.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await tokenFor(names.b)}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': a.session,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      expect(r.status).toBe(403);
    } finally {
      await a.client.close();
    }
  });
});
