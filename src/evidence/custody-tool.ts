/**
 * The AI-agent tool call in a chain of custody: what a `tool_call` request approved
 * (server, tool, pinned argument digest, disclosed arguments) and what each redemption
 * presented. Read defensively: a bundle is untrusted input until it verifies.
 */
import { canonicalOrUndefined, isObject, member, str } from './read.js';

export interface CustodyTool {
  /** The agent a redemption acted for (null on the request: its subject is the agent). */
  readonly agent: string | null;
  readonly server: string | null;
  readonly name: string | null;
  /** The SHA-256 of the arguments' RFC 8785 form: pinned (request) or presented (redemption). */
  readonly argumentsDigest: string | null;
  /** The arguments as disclosed (request) or the constrained values presented, as canonical JSON. */
  readonly arguments: string | null;
}

export function toolOf(value: unknown): CustodyTool | null {
  if (!isObject(value)) return null;
  const args = member(value, 'arguments');
  return {
    agent: str(member(value, 'agent')),
    server: str(member(value, 'server')),
    name: str(member(value, 'name')),
    argumentsDigest: str(member(value, 'argumentsDigest')),
    arguments: args === undefined ? null : (canonicalOrUndefined(args) ?? null),
  };
}

/** A scope entry's argument constraints as text: `table ∈ {"invoices","orders"}`. */
export function constraintsText(entry: unknown): string | null {
  const c = member(entry, 'constraints');
  if (!isObject(c)) return null;
  const parts = Object.entries(c).map(([name, k]) => {
    const values = member(k, 'in');
    const list = Array.isArray(values)
      ? values.map((v) => canonicalOrUndefined(v) ?? '?').join(',')
      : '?';
    return `${name} ∈ {${list}}`;
  });
  return parts.length === 0 ? null : parts.join(' and ');
}
