/**
 * The warrants a gateway holds for its agent, and which one a call should spend. The
 * choice is made on the warrant's claims as issued, unverified: it only picks what to
 * present, and the server, which verifies the signature and counts the uses, decides.
 */
import { decodeJwt } from 'jose';
import { scopeAllows } from '../core/scope.js';
import { toolCallProblem } from '../core/tool-binding.js';
import type { WarrantClaims, WarrantView } from '../client/types.js';
import { redemptionActionOf, type MappedCall } from './call-mapping.js';
import type { GatingConfig } from './gating-config.js';

export interface HeldWarrant {
  readonly requestId: string;
  readonly warrantId: string;
  readonly token: string;
  readonly claims: WarrantClaims;
  /** The exact approved window, in epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** What a call should present: a warrant that covers it, or the agent's nearest one for the tool. */
export interface Choice {
  readonly warrant: HeldWarrant;
  /** False: presented so that the server records (and names) the refusal. */
  readonly covers: boolean;
}

/** The warrant a view carries, when it is one of this gateway's tool-call warrants. */
export function heldWarrantOf(view: WarrantView, config: GatingConfig): HeldWarrant | undefined {
  let claims: unknown;
  try {
    claims = decodeJwt(view.token);
  } catch {
    return undefined;
  }
  if (!looksLikeClaims(claims)) return undefined;
  if (claims.sub !== config.subject || claims.tool?.server !== config.server) return undefined;
  return {
    requestId: view.requestId,
    warrantId: view.warrantId,
    token: view.token,
    claims,
    notBefore: Date.parse(view.notBefore),
    notAfter: Date.parse(view.notAfter),
  };
}

/**
 * Enough of the shape to choose by. The full schema is the server's to apply (this
 * layer reaches countersign through the client alone), and the server verifies all of it.
 */
function looksLikeClaims(c: unknown): c is WarrantClaims {
  const w = c as Partial<Record<keyof WarrantClaims, unknown>>;
  const tool = w.tool as { server?: unknown; name?: unknown } | undefined;
  return (
    typeof w.sub === 'string' &&
    typeof w.iat === 'number' &&
    typeof w.environment === 'string' &&
    Array.isArray(w.scope) &&
    Array.isArray(w.targets) &&
    typeof tool?.server === 'string' &&
    typeof tool.name === 'string'
  );
}

/** Whether the warrant, as issued, approves this call now. */
export function covers(
  w: HeldWarrant,
  config: GatingConfig,
  call: MappedCall,
  now: number,
): boolean {
  const { claims } = w;
  if (now < w.notBefore || now >= w.notAfter) return false;
  if (claims.environment !== config.environment) return false;
  const action = redemptionActionOf(config, call, claims);
  if (action.target !== undefined && !claims.targets.includes(action.target)) return false;
  return (
    scopeAllows(claims.scope, { ...action, arguments: action.tool?.arguments ?? {} }) &&
    toolCallProblem(claims.sub, claims.tool, action.tool) === null
  );
}

/** The set of held warrants; spent and closed ones are dropped as the server says so. */
export class HeldWarrants {
  readonly #byId = new Map<string, HeldWarrant>();

  has(warrantId: string): boolean {
    return this.#byId.has(warrantId);
  }

  add(w: HeldWarrant): void {
    this.#byId.set(w.warrantId, w);
  }

  drop(warrantId: string): void {
    this.#byId.delete(warrantId);
  }

  /**
   * The covering warrant that closes soonest (spent first, so longer ones last); failing
   * that, the latest issued for the same tool, whose refusal the server then records.
   */
  choose(config: GatingConfig, call: MappedCall, now: number): Choice | undefined {
    const mine = [...this.#byId.values()].filter((w) => w.claims.tool?.name === call.tool);
    const covering = mine
      .filter((w) => covers(w, config, call, now))
      .sort((a, b) => a.notAfter - b.notAfter);
    if (covering[0]) return { warrant: covering[0], covers: true };
    const latest = mine.sort((a, b) => b.claims.iat - a.claims.iat)[0];
    return latest ? { warrant: latest, covers: false } : undefined;
  }
}
