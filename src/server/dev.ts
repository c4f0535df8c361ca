import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { sha256Hex } from '../core/crypto.js';
import { newApiToken, type ApiTokenPrincipal } from '../identity/api-tokens.js';
import { parseStrictJson } from '../core/json.js';
import type { Role } from '../identity/roles.js';

export const SAMPLE_POLICY = `# countersign sample policy (dev mode). Rules are tried in order; the first match wins.
version: 1
# Every environment a request may name; any other (PROD, prod.) is refused.
environments: [prod, staging, dev]
rules:
  # An AI agent's tool calls (the MCP gateway asks on the agent's behalf, then redeems as
  # itself): two SREs, never the agent's owner, for at most 8 hours.
  - name: agent-tools
    match:
      actions: [tool_call]
    approvals:
      required: 2
      groups: [sre]
    excludeOwner: true
    maxDuration: 8h
    maxUses: 100
    pendingExpiry: 1h
  - name: prod
    match:
      environments: [prod]
    approvals:
      required: 2
      groups: [sre]
    excludeOwner: true
    requesterMayExecute: false
    maxDuration: 8h
    maxLeadTime: 7d
    maxUses: 10
    pendingExpiry: 24h
  - name: non-prod
    approvals:
      required: 1
      groups: [sre]
    maxDuration: 8h
    maxUses: 10
    pendingExpiry: 24h
`;

const DEV_PRINCIPALS: ReadonlyArray<{ id: string; roles: Role[]; groups?: string[] }> = [
  { id: 'alice', roles: ['requester'], groups: ['team-data'] },
  { id: 'bob', roles: ['approver', 'requester'], groups: ['sre'] },
  { id: 'carol', roles: ['approver', 'requester'], groups: ['sre'] },
  { id: 'deploy-eu', roles: ['executor'] },
  { id: 'deploy-us', roles: ['executor'] },
  // The admission webhook redeems, then reports what it admitted as a fulfilment and an observation.
  { id: 'k8s-admission', roles: ['executor', 'observer'] },
  // The MCP gateway asks for approval on its agent's behalf, then redeems and reports each call.
  { id: 'mcp-gateway', roles: ['requester', 'executor'] },
  { id: 'audra', roles: ['auditor'] },
  { id: 'collector', roles: ['observer'] },
  { id: 'admin', roles: ['admin'] },
];

export interface DevBootstrap {
  readonly policyFile: string;
  readonly kekFile: string;
  readonly principals: ApiTokenPrincipal[];
  readonly tokensFile: string;
  readonly created: boolean;
}

/**
 * Prepares a dev data dir: sample policy, a key-encryption key and dev principals
 * with tokens in `dev-tokens.json`. An existing data dir is reused as it is.
 */
export function bootstrapDevDataDir(dataDir: string): DevBootstrap {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const policyFile = join(dataDir, 'policy.yaml');
  const kekFile = join(dataDir, 'kek');
  const tokensFile = join(dataDir, 'dev-tokens.json');
  const created = !existsSync(tokensFile);
  if (!existsSync(policyFile)) writeFileSync(policyFile, SAMPLE_POLICY, { mode: 0o600 });
  if (!existsSync(kekFile))
    writeFileSync(kekFile, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  const tokens = existsSync(tokensFile) ? readDevTokens(tokensFile) : {};
  const principals = DEV_PRINCIPALS.map((p) => {
    const token = tokens[p.id] ?? newApiToken().token;
    tokens[p.id] = token;
    return { ...p, tokenSha256: sha256Hex(token) };
  });
  writeFileSync(tokensFile, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  return { policyFile, kekFile, principals, tokensFile, created };
}

/**
 * The dev tokens kept in the data directory. A file that is not a map of strings is
 * refused by its name alone: JSON.parse's message would quote a slice of it, a token.
 */
function readDevTokens(file: string): Record<string, string> {
  let doc: unknown;
  try {
    doc = parseStrictJson(readFileSync(file, 'utf8'));
  } catch {
    doc = null;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(`${file} is not a JSON map of principal to token: fix or delete it`);
  }
  if (!Object.values(doc).every((t) => typeof t === 'string')) {
    throw new Error(`${file} holds a token that is not a string: fix or delete it`);
  }
  return doc as Record<string, string>;
}
