import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gatewayArgs,
  type AgentClient,
  HttpGateway,
  httpAgent,
  stdioAgent,
  type AgentEra,
} from '../helpers/mcp-gateway.js';
import { CounterFile, HttpUpstream, upstreamScript } from '../helpers/mcp-upstream.js';

/**
 * A real SDK client (the agent) talks to the fixture upstream through
 * `countersign mcp-gateway`, with the gate forwarding every call: what the agent gets is
 * what the upstream would have given it, and the upstream's own counter shows what
 * reached it.
 */

interface Agent {
  readonly client: AgentClient;
  readonly counter: CounterFile;
  readonly close: () => Promise<void>;
}

/** One way of putting the gateway between an agent and the upstream. */
interface Setup {
  readonly name: string;
  /** Starts what the setup shares between agents (an upstream process, a gateway). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A new agent through the gateway, and the counter of the upstream it reaches. */
  agent(era: AgentEra): Promise<Agent>;
  /** A client talking to an upstream like it directly, to compare answers with. */
  direct(): Promise<Client>;
}

/** The gateway over stdio, running the upstream over stdio: how an agent's host runs it. */
function stdioSetup(name: string, upstreamFlags: string[]): Setup {
  const upstream = (counter?: CounterFile) => [
    upstreamScript(),
    ...upstreamFlags,
    ...(counter ? ['--counter-file', counter.path] : []),
  ];
  return {
    name,
    start: async () => undefined,
    stop: async () => undefined,
    async agent(era) {
      const counter = new CounterFile();
      const { client } = await stdioAgent(
        era,
        process.execPath,
        gatewayArgs('--', process.execPath, ...upstream(counter)),
      );
      return {
        client,
        counter,
        close: async () => {
          await client.close();
          counter.remove();
        },
      };
    },
    direct: async () => (await stdioAgent('legacy', process.execPath, upstream())).client,
  };
}

/** The gateway serving Streamable HTTP in front of an upstream serving Streamable HTTP. */
function httpSetup(): Setup {
  const counter = new CounterFile();
  let upstream: HttpUpstream | undefined;
  let gateway: HttpGateway | undefined;
  return {
    name: 'over Streamable HTTP, in front of a Streamable HTTP upstream',
    async start() {
      upstream = await HttpUpstream.start(counter);
      gateway = await HttpGateway.start('--upstream-url', upstream.url);
    },
    async stop() {
      await gateway?.stop();
      await upstream?.stop();
      counter.remove();
    },
    async agent(era) {
      const client = await httpAgent(era, gateway!.url);
      return { client, counter, close: () => client.close() };
    },
    direct: () => httpAgent('legacy', upstream!.url),
  };
}

const SETUPS: Setup[] = [
  stdioSetup('over stdio, running a stdio upstream', []),
  stdioSetup('over stdio, running a stdio upstream that speaks only the 2025 protocol', [
    '--legacy-only',
  ]),
  httpSetup(),
];

/** Accepts any JSON object as a result: for calling methods the SDK has no schema for. */
const anyResult = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value: unknown) => ({ value: value as Record<string, unknown> }),
  },
} as const;

/**
 * The JSON-RPC error code a call failed with. Over Streamable HTTP on the 2026-07-28
 * revision the SDK answers a method it cannot route with an HTTP status as well, and its
 * client reports that as an HTTP error carrying the JSON-RPC error body.
 */
function jsonRpcErrorCode(error: unknown): unknown {
  const e = error as { code?: unknown; data?: { status?: number; text?: string } };
  if (typeof e.code === 'number') return e.code;
  return (JSON.parse(e.data?.text ?? '{}') as { error?: { code?: number } }).error?.code;
}

/** Resolves once `check` holds; fails (with what it last saw) if it never does. */
async function eventually<T>(read: () => T, check: (v: T) => boolean): Promise<T> {
  let last = read();
  for (let i = 0; i < 400 && !check(last); i++) {
    await new Promise((tick) => setTimeout(tick, 25));
    last = read();
  }
  expect(check(last), `still ${JSON.stringify(last)}`).toBe(true);
  return last;
}

describe.each(SETUPS)('the MCP gateway $name', (setup) => {
  let direct: Client;
  beforeAll(async () => {
    await setup.start();
    direct = await setup.direct();
  });
  afterAll(async () => {
    await direct?.close();
    await setup.stop();
  });

  describe.each(['legacy', 'modern'] as const)('when the agent speaks the %s protocol', (era) => {
    let agent: Agent;
    let client: AgentClient;
    let counter: CounterFile;
    beforeAll(async () => {
      agent = await setup.agent(era);
      ({ client, counter } = agent);
    });
    afterAll(() => agent?.close());

    const calls = (tool: string): number => counter.read().calls[tool] ?? 0;

    it('negotiates the era the agent asked for', () => {
      expect(client.getProtocolEra()).toBe(era);
    });

    it('introduces itself as the upstream does', async () => {
      expect(client.getServerVersion()).toMatchObject({ name: 'orders-db', version: '1.0.0' });
      expect(client.getInstructions()).toBe(direct.getInstructions());
    });

    it("lists exactly the upstream's tools", async () => {
      expect((await client.listTools()).tools).toEqual((await direct.listTools()).tools);
    });

    it('passes an ungated call through, and the upstream counts it once', async () => {
      const before = calls('ping');
      const result = await client.callTool({ name: 'ping' });
      expect(result.content).toEqual([{ type: 'text', text: expect.stringMatching(/^pong/) }]);
      expect(result.isError).toBeFalsy();
      expect(calls('ping')).toBe(before + 1);
    });

    it('passes arguments and structured results through unchanged', async () => {
      const result = await client.callTool({
        name: 'query',
        arguments: { table: 'orders', sql: 'select * from orders' },
      });
      expect(result.structuredContent).toEqual({
        table: 'orders',
        sql: 'select * from orders',
        rows: [],
      });
    });

    it('passes resources and resource templates through', async () => {
      expect((await client.listResources()).resources).toEqual(
        (await direct.listResources()).resources,
      );
      expect((await client.listResourceTemplates()).resourceTemplates).toEqual(
        (await direct.listResourceTemplates()).resourceTemplates,
      );
      for (const uri of ['db://orders-db/schema', 'db://orders-db/tables/invoices']) {
        expect((await client.readResource({ uri })).contents).toEqual(
          (await direct.readResource({ uri })).contents,
        );
      }
    });

    it('passes prompts through', async () => {
      expect((await client.listPrompts()).prompts).toEqual((await direct.listPrompts()).prompts);
      const get = { name: 'explain', arguments: { table: 'orders' } };
      expect((await client.getPrompt(get)).messages).toEqual(
        (await direct.getPrompt(get)).messages,
      );
    });

    it("relays the upstream's progress notifications under the agent's token", async () => {
      client.progress.length = 0;
      const result = await client.callTool(
        { name: 'wait', arguments: { steps: 4, intervalMs: 20 } },
        { onprogress: () => undefined },
      );
      expect(result.content).toEqual([{ type: 'text', text: 'waited 4 steps' }]);
      const tokens = new Set(client.progress.map((p) => p.progressToken));
      expect(tokens.size).toBe(1);
      expect(client.progress.map(({ progressToken: _, ...update }) => update)).toEqual(
        [1, 2, 3, 4].map((n) => ({ progress: n, total: 4, message: `step ${n}` })),
      );
    });

    it("tells the agent when the upstream's tool list changes", async () => {
      let heard = 0;
      client.setNotificationHandler('notifications/tools/list_changed', () => void (heard += 1));
      // A 2026-era agent hears of changes only on a stream it opens for them.
      const stream = era === 'modern' ? await client.listen({ toolsListChanged: true }) : undefined;
      await client.callTool({ name: 'refresh' });
      await eventually(
        () => heard,
        (n) => n > 0,
      );
      await stream?.close();
    });

    it('cancels the call upstream when the agent cancels it', async () => {
      const cancelled = () => counter.read().cancelled.wait ?? 0;
      const before = cancelled();
      const stop = new AbortController();
      const call = client.callTool(
        { name: 'wait', arguments: { steps: 100_000, intervalMs: 5 } },
        { signal: stop.signal, onprogress: () => stop.abort('the agent gave up') },
      );
      await expect(call).rejects.toThrow('the agent gave up');
      await eventually(cancelled, (n) => n === before + 1);
    });

    it('refuses arguments over 1 MiB with a JSON-RPC error, without forwarding them', async () => {
      const before = calls('query');
      const call = client.callTool({
        name: 'query',
        arguments: { table: 'orders', sql: `select '${'x'.repeat(1024 * 1024)}'` },
      });
      await expect(call).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining("over the gateway's limit of 1048576"),
      });
      expect(calls('query')).toBe(before);
      expect((await client.callTool({ name: 'ping' })).isError).toBeFalsy();
    });

    it('answers an unknown method with "method not found", and keeps serving', async () => {
      const error: unknown = await client
        .request({ method: 'acme/drop_everything' }, anyResult)
        .then(
          () => 'answered',
          (e: unknown) => e,
        );
      expect(jsonRpcErrorCode(error)).toBe(-32601);
      expect((await client.callTool({ name: 'ping' })).isError).toBeFalsy();
    });
  });
});
