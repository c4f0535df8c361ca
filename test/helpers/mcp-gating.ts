import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueNhi } from './chain.js';
import {
  gatewayArgs,
  HttpGateway,
  httpAgent,
  stdioAgent,
  type AgentClient,
} from './mcp-gateway.js';
import { CounterFile, HttpUpstream, upstreamScript } from './mcp-upstream.js';
import type { DevPrincipal, TestServer } from './server.js';

export type Transport = 'stdio' | 'http';

/** A tool result as the agent reads it, with the gateway's `_meta`. */
export interface ToolAnswer {
  readonly content: readonly { type: string; text?: string }[];
  readonly isError?: boolean;
  readonly _meta?: {
    readonly 'countersign/receipt'?: {
      readonly receipt: string;
      readonly receiptId: string;
      readonly warrantId: string;
      readonly requestId: string;
      readonly use: number;
      readonly maxUses: number;
    };
    readonly 'countersign/refusal'?: {
      readonly code: string;
      readonly request?: { readonly id: string; readonly approvals: number; readonly url: string };
    };
  };
}

export interface GatedAgent {
  readonly subject: string;
  readonly client: AgentClient;
  readonly counter: CounterFile;
  call(name: string, args?: Record<string, unknown>): Promise<ToolAnswer>;
  close(): Promise<void>;
}

export interface GatedOptions {
  readonly transport?: Transport;
  /** The agent the gateway acts for; a fresh registered one by default. */
  readonly subject?: string;
  readonly tools?: Record<string, unknown>;
  readonly gated?: string[];
  readonly wait?: string;
  readonly environment?: string;
  /** The credential the gateway redeems with (default `mcp-gateway`). */
  readonly as?: DevPrincipal;
}

/** Registers a fresh AI agent owned by team-data; returns its id. */
export async function registerAgent(s: TestServer): Promise<string> {
  const id = uniqueNhi('agent');
  const r = await s.http('POST', '/v1/nhis', {
    as: 'admin',
    body: { id, kind: 'ai_agent', owner: 'team-data' },
  });
  if (r.status !== 201) throw new Error(`nhi: ${r.text}`);
  return id;
}

/** `countersign mcp-gateway` gating the fixture upstream for one agent, over `transport`. */
export async function gatedAgent(s: TestServer, o: GatedOptions = {}): Promise<GatedAgent> {
  const subject = o.subject ?? (await registerAgent(s));
  const counter = new CounterFile();
  const config = join(counter.dir, 'gateway.yaml');
  // JSON is YAML: the gateway reads either.
  writeFileSync(
    config,
    JSON.stringify({
      server: 'orders-db',
      environment: o.environment ?? 'staging',
      subject,
      executor: o.as ?? 'mcp-gateway',
      ...(o.gated ? { gated: o.gated } : {}),
      ...(o.tools ? { tools: o.tools } : {}),
    }),
  );
  const env = { COUNTERSIGN_ADDR: s.url, COUNTERSIGN_TOKEN: s.tokens[o.as ?? 'mcp-gateway'] };
  const flags = ['--gateway-config', config, ...(o.wait ? ['--wait', o.wait] : [])];
  let client: AgentClient;
  let stop: () => Promise<void>;
  if ((o.transport ?? 'stdio') === 'stdio') {
    const upstream = [upstreamScript(), '--counter-file', counter.path];
    ({ client } = await stdioAgent(
      'legacy',
      process.execPath,
      gatewayArgs(...flags, '--', process.execPath, ...upstream),
      env,
    ));
    stop = async () => undefined;
  } else {
    const up = await HttpUpstream.start(counter);
    const gw = await HttpGateway.startWith(env, ...flags, '--upstream-url', up.url);
    client = await httpAgent('legacy', gw.url);
    stop = async () => {
      await gw.stop();
      await up.stop();
    };
  }
  return {
    subject,
    client,
    counter,
    call: async (name, args = {}) =>
      (await client.callTool({ name, arguments: args })) as unknown as ToolAnswer,
    close: async () => {
      await client.close();
      await stop();
      counter.remove();
    },
  };
}

/** Approves a request as each of `approvers` (two SREs by default). */
export async function approve(
  s: TestServer,
  requestId: string,
  approvers: DevPrincipal[] = ['bob', 'carol'],
): Promise<void> {
  for (const as of approvers) {
    const d = await s.http('POST', `/v1/requests/${encodeURIComponent(requestId)}/decisions`, {
      as,
      body: { decision: 'approve', reason: 'looked at the call' },
    });
    if (d.status !== 201) throw new Error(`decision: ${d.text}`);
  }
}

/** The tool-call requests filed for an agent, newest first. */
export async function toolRequests(
  s: TestServer,
  subject: string,
): Promise<{ id: string; state: string }[]> {
  const q = `subject=${encodeURIComponent(subject)}&action=tool_call`;
  const r = await s.http('GET', `/v1/requests?${q}`, { as: 'audra' });
  if (r.status !== 200) throw new Error(`list: ${r.text}`);
  return (r.body as { requests: { id: string; state: string }[] }).requests;
}

/** The code a refused call carries. */
export const refusalOf = (a: ToolAnswer): string | undefined =>
  a._meta?.['countersign/refusal']?.code;
