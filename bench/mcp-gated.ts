import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { call, startNode, stopProcess } from './server.js';
import { tempDir } from './util.js';

const AGENT = 'agent:bench-mcp';
const SERVER = 'orders-db';

// The sample policy's agent-tools rule caps a tool-call warrant at 100 uses, too few for
// one session to carry warmup and timed calls: this one has the same approvals
// (two SREs, never the agent's owner) and allows a many-use session.
const GATED_POLICY = `version: 1
environments: [staging]
rules:
  - name: agent-tools
    match:
      actions: [tool_call]
    approvals: { required: 2, groups: [sre] }
    excludeOwner: true
    maxDuration: 8h
    maxUses: 1000000
`;

/** A gateway that gates `query` for one agent, against a countersign server holding its warrant. */
export interface GatedSetup {
  /** `mcp-gateway` flags to put before `--` and the upstream command. */
  readonly gatewayArgs: readonly string[];
  /** COUNTERSIGN_ADDR and COUNTERSIGN_TOKEN for the gateway (the dev principal `mcp-gateway`). */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * Starts a dev server on a fresh data dir, registers the agent and has alice ask for a
 * `query` session of `uses` calls on db/orders (what the gateway's session rule would
 * file), approved by bob and carol before the gateway starts: every gated call the
 * bench makes then finds the warrant held and costs exactly one redemption.
 */
export async function startGatedSetup(uses: number): Promise<GatedSetup> {
  const t = tempDir('mcp');
  const dir = join(t.dir, 'data');
  mkdirSync(dir);
  writeFileSync(join(dir, 'policy.yaml'), GATED_POLICY);
  const { proc, url } = await startNode(dir);
  const stop = async (): Promise<void> => {
    await stopProcess(proc);
    t.cleanup();
  };
  try {
    const tokens = JSON.parse(readFileSync(join(dir, 'dev-tokens.json'), 'utf8')) as Record<
      string,
      string
    >;
    await call(url, tokens.admin!, 'POST', '/v1/nhis', {
      id: AGENT,
      kind: 'ai_agent',
      owner: 'team-data',
    });
    const r = await call(url, tokens.alice!, 'POST', '/v1/requests', {
      subject: AGENT,
      action: 'tool_call',
      tool: { server: SERVER, name: 'query' },
      scope: [
        {
          resource: 'db/orders',
          permissions: ['read'],
          constraints: { table: { in: ['orders'] } },
        },
      ],
      environment: 'staging',
      targets: [`${SERVER}:query`],
      executor: { principal: 'mcp-gateway' },
      duration: '2h',
      maxUses: uses,
      reason: 'bench: the agent queries orders',
    });
    for (const approver of ['bob', 'carol']) {
      await call(url, tokens[approver]!, 'POST', `/v1/requests/${r.id}/decisions`, {
        decision: 'approve',
        reason: 'bench',
      });
    }
    const config = join(t.dir, 'gateway.yaml');
    // JSON is YAML: the gateway reads either.
    writeFileSync(
      config,
      JSON.stringify({
        server: SERVER,
        environment: 'staging',
        subject: AGENT,
        executor: 'mcp-gateway',
        gated: ['query'],
        tools: {
          query: {
            resource: 'db/{table}',
            permission: 'read',
            session: { maxUses: uses, duration: '2h', constraints: { table: ['orders'] } },
          },
        },
      }),
    );
    return {
      gatewayArgs: ['--gateway-config', config],
      env: { COUNTERSIGN_ADDR: url, COUNTERSIGN_TOKEN: tokens['mcp-gateway']! },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
