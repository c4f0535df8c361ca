import { requireBearerAuth, type AuthInfo } from '@modelcontextprotocol/server';
import type { CountersignClient } from '../client/index.js';
import { agentTokenVerifier } from './agent-tokens.js';
import { ToolCallAuthority } from './authority.js';
import type { ToolCallGate } from './gate.js';
import { readGatingConfig } from './gating-config.js';
import { warrantGate } from './warrant-gate.js';

export interface Gating {
  readonly gate: ToolCallGate;
  /** Authenticates each HTTP request's agent token, when the config names agents by token. */
  readonly authenticate: ((request: Request) => Promise<AuthInfo | Response>) | undefined;
}

/** The gate a gating config file describes, asking countersign through `client`. */
export function gating(configFile: string, client: CountersignClient, waitMs?: number): Gating {
  const config = readGatingConfig(configFile);
  const options = waitMs === undefined ? {} : { waitMs };
  const tokens = config.agentTokens;
  if (tokens === undefined) {
    const authority = new ToolCallAuthority(client, config, options);
    return { gate: warrantGate(() => authority), authenticate: undefined };
  }
  // One authority per agent: each holds only the warrants approved for its agent.
  const byAgent = new Map<string, ToolCallAuthority>();
  const authorityFor = (agent: string | undefined): ToolCallAuthority | undefined => {
    if (agent === undefined) return undefined;
    let a = byAgent.get(agent);
    if (a === undefined) {
      a = new ToolCallAuthority(client, config.forAgent(agent), options);
      byAgent.set(agent, a);
    }
    return a;
  };
  return {
    gate: warrantGate(authorityFor),
    authenticate: requireBearerAuth({ verifier: agentTokenVerifier(tokens) }),
  };
}
