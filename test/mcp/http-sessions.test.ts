import { Server, type AuthInfo } from '@modelcontextprotocol/server';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { httpEndpoint, type HttpEndpointOptions } from '../../src/mcp/http-endpoint.js';

/** An endpoint over bare servers, each agent named by its bearer token. */
function endpoint(o: Partial<HttpEndpointOptions>) {
  return httpEndpoint(() => new Server({ name: 'up', version: '1.0.0' }, { capabilities: {} }), {
    maxBodyBytes: 1 << 20,
    maxSessions: 10,
    maxSessionsPerAgent: 10,
    sessionIdleMs: 60_000,
    loopback: false,
    report: () => undefined,
    authenticate: (r) => {
      const agent = (r.headers.get('authorization') ?? '').replace(/^Bearer /, '');
      return Promise.resolve({ token: agent, clientId: agent, scopes: [] } as AuthInfo);
    },
    ...o,
  });
}

/** A 2025-era `initialize` as the agent `agent`: the HTTP status it gets. */
async function initialize(e: ReturnType<typeof endpoint>, agent: string): Promise<number> {
  const res = await e.fetch(
    new Request('http://gateway.test/mcp', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${agent}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: agent, version: '1' },
        },
      }),
    }),
  );
  await res.body?.cancel();
  return res.status;
}

describe('the gateway over Streamable HTTP, 2025-era sessions', () => {
  describe('when one agent opens more sessions than an agent may hold', () => {
    it('refuses that agent with 503 and still serves another', async () => {
      const e = endpoint({ maxSessionsPerAgent: 2 });
      try {
        expect([await initialize(e, 'a'), await initialize(e, 'a')]).toEqual([200, 200]);
        expect(await initialize(e, 'a')).toBe(503);
        expect(await initialize(e, 'b')).toBe(200);
      } finally {
        await e.close();
      }
    });
  });

  describe('when the room is full of idle sessions', () => {
    it('closes the idle ones to make room, and refuses while they are still in use', async () => {
      const e = endpoint({ maxSessions: 2, sessionIdleMs: 150 });
      try {
        expect([await initialize(e, 'a'), await initialize(e, 'b')]).toEqual([200, 200]);
        expect(await initialize(e, 'c')).toBe(503);
        await sleep(250);
        expect(await initialize(e, 'c')).toBe(200);
      } finally {
        await e.close();
      }
    });
  });
});
