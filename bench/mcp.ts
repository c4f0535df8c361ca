import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { now, percentile, progress, round, type Figure } from './util.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const UPSTREAM = resolve(import.meta.dirname, '../test/fixtures/mcp-upstream-main.js');
const BARE = resolve(import.meta.dirname, 'bare-mcp-proxy.js');

const WARMUP = 300;
const CALLS = 3000;

async function agentOver(command: string[]): Promise<Client> {
  const client = new Client({ name: 'bench-agent', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: command,
      env: { PATH: process.env.PATH ?? '' },
      stderr: 'ignore',
    }),
  );
  return client;
}

const CALL = { name: 'query', arguments: { table: 'orders', sql: 'select * from orders' } };

/** Milliseconds one tools/call takes, answered by the fixture upstream. */
async function timeCall(client: Client): Promise<number> {
  const t = now();
  const result = await client.callTool(CALL);
  const ms = Number(now() - t) / 1e6;
  if (result.isError === true) throw new Error('the upstream answered an error');
  return ms;
}

/**
 * What the gateway adds to a tools/call: the agent (an SDK client over stdio) calls the
 * fixture upstream through `countersign mcp-gateway` and through a bare SDK proxy
 * (bare-mcp-proxy.ts), alternately, one call at a time, so both see the same machine.
 * Both reach the upstream over stdio, each its own upstream process.
 */
export async function mcpBenchmarks(): Promise<Figure[]> {
  progress(`mcp: ${CALLS} tools/call through the gateway and through a bare SDK proxy`);
  const gateway = await agentOver([CLI, 'mcp-gateway', '--', process.execPath, UPSTREAM]);
  const bare = await agentOver([BARE, process.execPath, UPSTREAM]);
  const samples = { gateway: [] as number[], bare: [] as number[] };
  try {
    for (let i = 0; i < WARMUP; i++) {
      await timeCall(gateway);
      await timeCall(bare);
    }
    for (let i = 0; i < CALLS; i++) {
      // Alternate which goes first, so neither always follows the other.
      if (i % 2 === 0) {
        samples.gateway.push(await timeCall(gateway));
        samples.bare.push(await timeCall(bare));
      } else {
        samples.bare.push(await timeCall(bare));
        samples.gateway.push(await timeCall(gateway));
      }
    }
  } finally {
    await gateway.close();
    await bare.close();
  }
  const g = [...samples.gateway].sort((a, b) => a - b);
  const b = [...samples.bare].sort((a, b) => a - b);
  const at = (s: number[], p: number) => round(percentile(s, p), 3);
  return [
    {
      key: 'mcp_call_gateway_p50_ms',
      label: 'tools/call through the gateway, p50',
      value: at(g, 50),
      unit: 'ms',
    },
    {
      key: 'mcp_call_gateway_p99_ms',
      label: 'tools/call through the gateway, p99',
      value: at(g, 99),
      unit: 'ms',
    },
    {
      key: 'mcp_call_bare_proxy_p50_ms',
      label: 'tools/call through a bare SDK proxy, p50',
      value: at(b, 50),
      unit: 'ms',
    },
    {
      key: 'mcp_call_bare_proxy_p99_ms',
      label: 'tools/call through a bare SDK proxy, p99',
      value: at(b, 99),
      unit: 'ms',
    },
    {
      key: 'mcp_call_overhead_p50_ms',
      label: 'added by the gateway to a forwarded tools/call, p50 (pass-through gate)',
      value: round(at(g, 50) - at(b, 50), 3),
      unit: 'ms',
      goal: { target: 3, higherIsBetter: false, text: '≤ 3 ms' },
    },
    {
      key: 'mcp_call_overhead_p99_ms',
      label: 'added by the gateway to a forwarded tools/call, p99 (pass-through gate)',
      value: round(at(g, 99) - at(b, 99), 3),
      unit: 'ms',
    },
  ];
}
