import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpGateway, httpAgent, RawStdioGateway } from '../helpers/mcp-gateway.js';
import { CounterFile, HttpUpstream, upstreamScript } from '../helpers/mcp-upstream.js';
import { sendRaw } from '../helpers/raw-http.js';

/**
 * What no SDK client sends, sent to the gateway: each bad message gets a JSON-RPC error
 * (JSON-RPC 2.0 §5.1) and costs nothing else; the gateway keeps serving the next one.
 */

const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'raw', version: '1.0.0' },
};

describe('the MCP gateway over stdio', () => {
  describe('when the agent writes lines that are not JSON-RPC messages', () => {
    let gateway: RawStdioGateway;
    beforeAll(() => {
      gateway = RawStdioGateway.start('--', process.execPath, upstreamScript());
    });
    afterAll(() => gateway?.stop());

    it('answers text that is not JSON with a parse error', async () => {
      gateway.write('this is not json\n');
      expect(await gateway.next()).toMatchObject({ id: null, error: { code: -32700 } });
    });

    it('answers bytes that are not UTF-8 with a parse error', async () => {
      gateway.write(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
      expect(await gateway.next()).toMatchObject({ id: null, error: { code: -32700 } });
    });

    it('answers JSON that is no message with an invalid request, naming its id', async () => {
      gateway.write('{"jsonrpc":"2.0","id":7}\n');
      expect(await gateway.next()).toMatchObject({ id: 7, error: { code: -32600 } });
      gateway.write('[{"jsonrpc":"2.0","id":8,"method":"ping"}]\n');
      expect(await gateway.next()).toMatchObject({ id: null, error: { code: -32600 } });
      gateway.write('{"jsonrpc":"1.0","id":9,"method":"ping"}\n');
      expect(await gateway.next()).toMatchObject({ id: 9, error: { code: -32600 } });
    });

    it('skips a line over 4 MiB with an invalid request, even when it arrives in pieces', async () => {
      const piece = 'x'.repeat(1024 * 1024);
      for (let i = 0; i < 5; i++) gateway.write(piece);
      gateway.write('\n');
      expect(await gateway.next()).toMatchObject({
        id: null,
        error: { code: -32600, message: expect.stringContaining('at most 4194304 bytes') },
      });
    });

    it('then serves a session as if nothing had happened', async () => {
      const init = await gateway.request(1, 'initialize', INITIALIZE);
      expect(init.result).toMatchObject({ serverInfo: { name: 'orders-db' } });
      gateway.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
      const ping = await gateway.request(2, 'tools/call', { name: 'ping', arguments: {} });
      expect(ping.result).toMatchObject({ content: [{ type: 'text' }] });
      const unknown = await gateway.request(3, 'acme/unknown');
      expect(unknown.error).toMatchObject({ code: -32601 });
      const badParams = await gateway.request(4, 'tools/call', { name: 42 });
      expect(badParams.error).toMatchObject({ code: -32602 });
    });

    // Written as raw text: JSON.stringify would never produce these.
    it.each([
      ['a lone surrogate', '{"table":"\\ud800"}'],
      ['negative zero', '{"table":"orders","limit":-0}'],
      ['a number beyond a double (1e400)', '{"table":"orders","limit":1e400}'],
    ])('answers arguments holding %s with invalid params, and keeps serving', async (_, args) => {
      const id = Math.floor(Math.random() * 1e9);
      gateway.write(
        `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"ping","arguments":${args}}}\n`,
      );
      let answer = await gateway.next();
      while (answer.id !== id) answer = await gateway.next();
      expect(answer.error).toMatchObject({
        code: -32602,
        message: expect.stringContaining('have no RFC 8785 form'),
      });
      const ping = await gateway.request(id + 1, 'tools/call', { name: 'ping', arguments: {} });
      expect(ping.result).toMatchObject({ content: [{ type: 'text' }] });
    });

    it('refuses a call asked to run as a task with invalid params, and forwards nothing', async () => {
      gateway.write(
        '{"jsonrpc":"2.0","id":601,"method":"tools/call","params":{"name":"ping","arguments":{},"task":{"ttl":1000}}}\n',
      );
      let answer = await gateway.next();
      while (answer.id !== 601) answer = await gateway.next();
      expect(answer.error).toMatchObject({
        code: -32602,
        message: expect.stringContaining('task-augmented calls are not supported'),
      });
    });

    it('answers a call that names a key twice with a parse error, and forwards nothing', async () => {
      // JSON.parse keeps the last "table", other parsers the first: gated as one call, it
      // could run upstream as the other.
      gateway.write(
        '{"jsonrpc":"2.0","id":501,"method":"tools/call","params":{"name":"ping","arguments":{"table":"orders","table":"users"}}}\n',
      );
      expect(await gateway.next()).toMatchObject({
        id: null,
        error: { code: -32700, message: expect.stringContaining('a key occurs twice') },
      });
      const ping = await gateway.request(502, 'tools/call', { name: 'ping', arguments: {} });
      expect(ping.result).toMatchObject({ content: [{ type: 'text' }] });
    });
  });
});

describe('the MCP gateway over Streamable HTTP', () => {
  const counter = new CounterFile();
  let upstream: HttpUpstream;
  let gateway: HttpGateway;
  beforeAll(async () => {
    upstream = await HttpUpstream.start(counter);
    gateway = await HttpGateway.start('--upstream-url', upstream.url);
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
    counter.remove();
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body,
    });

  describe('when the agent posts bodies that are not JSON-RPC messages', () => {
    it('answers text that is not JSON with a parse error', async () => {
      const res = await post('this is not json');
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ id: null, error: { code: -32700 } });
    });

    it('answers a body that names a key twice with a parse error', async () => {
      const res = await post(
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"table":"orders","table":"users"}}}',
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        id: null,
        error: { code: -32700, message: expect.stringContaining('a key occurs twice') },
      });
    });

    it('answers a message without a session with a JSON-RPC error', async () => {
      const res = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: -32000 } });
    });

    it('answers an unknown session with a JSON-RPC error', async () => {
      const res = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', {
        'mcp-session-id': 'no-such-session',
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: -32001 } });
    });

    it('refuses a body over 4 MiB before reading it', async () => {
      const res = await post(
        `{"jsonrpc":"2.0","id":1,"method":"ping","x":"${'x'.repeat(5 << 20)}"}`,
      );
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: -32000 } });
    });

    it('refuses a Host or Origin header that is not loopback (DNS rebinding)', async () => {
      const ping = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
      const json = { 'content-type': 'application/json', accept: 'application/json' };
      for (const foreign of [{ host: 'evil.example' }, { origin: 'https://evil.example' }]) {
        const res = await sendRaw(gateway.url, 'POST', '/mcp', { ...json, ...foreign }, ping);
        expect(res.status).toBe(403);
      }
    });

    it('then serves an agent as if nothing had happened', async () => {
      const client = await httpAgent('legacy', gateway.url);
      expect((await client.callTool({ name: 'ping' })).isError).toBeFalsy();
      await client.close();
    });
  });
});
