import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { startGatedSetup } from './mcp-gated.js';
import { now, percentile, progress, round, type Figure } from './util.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const UPSTREAM = resolve(import.meta.dirname, '../test/fixtures/mcp-upstream-main.js');
const BARE = resolve(import.meta.dirname, 'bare-mcp-proxy.js');

const WARMUP = 300;
const CALLS = 3000;

async function agentOver(
  command: string[],
  env: Readonly<Record<string, string>> = {},
): Promise<Client> {
  const client = new Client({ name: 'bench-agent', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: command,
      env: { PATH: process.env.PATH ?? '', ...env },
      stderr: 'ignore',
    }),
  );
  return client;
}

const CALL = { name: 'query', arguments: { table: 'orders', sql: 'select * from orders' } };

type Route = 'gated' | 'passthrough' | 'bare';
const ROUTES: readonly Route[] = ['gated', 'passthrough', 'bare'];

type Result = Awaited<ReturnType<Client['callTool']>>;

/**
 * Checks that each gated answer carries the receipt of the next use of the one warrant:
 * a call without it would be timed having skipped its redemption.
 */
function receiptCheck(): (result: Result) => void {
  let next = 1;
  return (result) => {
    const receipt = result._meta?.['countersign/receipt'] as { use?: unknown } | undefined;
    if (receipt?.use !== next) throw new Error(`gated call ${next} came back without its receipt`);
    next++;
  };
}

/** Milliseconds one tools/call takes, answered by the fixture upstream. */
async function timeCall(client: Client, check?: (result: Result) => void): Promise<number> {
  const t = now();
  const result = await client.callTool(CALL);
  const ms = Number(now() - t) / 1e6;
  if (result.isError === true) throw new Error('the upstream answered an error');
  check?.(result);
  return ms;
}

function figures(route: string, what: string, sorted: readonly number[]): Figure[] {
  return [50, 99].map((p) => ({
    key: `mcp_call_${route}_p${p}_ms`,
    label: `tools/call ${what}, p${p}`,
    value: round(percentile(sorted, p), 3),
    unit: 'ms',
  }));
}

/**
 * What the gateway adds to a tools/call: the agent (an SDK client over stdio) calls the
 * fixture upstream through `countersign mcp-gateway` gating `query` with a warrant held
 * (every call one redemption at a real server, then a fulfilment), through the gateway
 * with no gating config (pass-through), and through a bare SDK proxy (bare-mcp-proxy.ts),
 * in turn, one call at a time, so all three see the same machine. Each reaches its own
 * upstream process over stdio.
 */
export async function mcpBenchmarks(): Promise<Figure[]> {
  progress(`mcp: ${CALLS} tools/call each, gated (warrant held), pass-through and bare proxy`);
  const setup = await startGatedSetup(WARMUP + CALLS);
  const clients: Partial<Record<Route, Client>> = {};
  const samples: Record<Route, number[]> = { gated: [], passthrough: [], bare: [] };
  const checks: Partial<Record<Route, (result: Result) => void>> = { gated: receiptCheck() };
  try {
    const upstream = ['--', process.execPath, UPSTREAM];
    clients.gated = await agentOver(
      [CLI, 'mcp-gateway', ...setup.gatewayArgs, ...upstream],
      setup.env,
    );
    clients.passthrough = await agentOver([CLI, 'mcp-gateway', ...upstream]);
    clients.bare = await agentOver([BARE, process.execPath, UPSTREAM]);
    for (let i = 0; i < WARMUP + CALLS; i++) {
      // Rotate which goes first, so none always follows another.
      for (let k = 0; k < ROUTES.length; k++) {
        const route = ROUTES[(i + k) % ROUTES.length] as Route;
        const ms = await timeCall(clients[route] as Client, checks[route]);
        if (i >= WARMUP) samples[route].push(ms);
      }
    }
  } finally {
    for (const c of Object.values(clients)) await c.close();
    await setup.stop();
  }
  const sorted = (s: number[]) => [...s].sort((a, b) => a - b);
  const gated = sorted(samples.gated);
  const passthrough = sorted(samples.passthrough);
  const bare = sorted(samples.bare);
  const added = (s: readonly number[], p: number) =>
    round(round(percentile(s, p), 3) - round(percentile(bare, p), 3), 3);
  return [
    ...figures('gated', 'through the gateway, gated, warrant held', gated),
    ...figures('gateway', 'through the gateway, pass-through (no gating config)', passthrough),
    ...figures('bare_proxy', 'through a bare SDK proxy', bare),
    {
      key: 'mcp_call_overhead_p50_ms',
      label: 'added by the gateway to a gated tools/call with a warrant held, p50',
      value: added(gated, 50),
      unit: 'ms',
      goal: { target: 3, higherIsBetter: false, text: '≤ 3 ms' },
    },
    {
      key: 'mcp_call_overhead_p99_ms',
      label: 'added by the gateway to a gated tools/call with a warrant held, p99',
      value: added(gated, 99),
      unit: 'ms',
    },
    {
      key: 'mcp_call_ungated_overhead_p50_ms',
      label: 'added by the gateway to an ungated tools/call, p50',
      value: added(passthrough, 50),
      unit: 'ms',
    },
    {
      key: 'mcp_call_ungated_overhead_p99_ms',
      label: 'added by the gateway to an ungated tools/call, p99',
      value: added(passthrough, 99),
      unit: 'ms',
    },
  ];
}
