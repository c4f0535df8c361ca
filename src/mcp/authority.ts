/**
 * The question every gated tool call asks: may it run, under which warrant? The answer
 * is a redemption at the countersign server (one use spent, a receipt signed) or a
 * refusal the agent can act on; with no covering warrant, a request for one is filed on
 * the agent's behalf. It fails closed: a server it cannot reach refuses the call.
 *
 * Free of MCP: the gateway's gate wraps it, and `checkToolCall` offers it to agent
 * frameworks that do not speak MCP.
 */
import {
  CountersignApiError,
  isRedemptionDenial,
  type CountersignClient,
  type RequestView,
} from '../client/index.js';
import { FiledRequests, type RequestMemory } from './approvals.js';
import {
  mapCall,
  pendingKeyOf,
  redemptionActionOf,
  requestInputOf,
  type MappedCall,
} from './call-mapping.js';
import type { GatingConfig } from './gating-config.js';
import { heldWarrantOf, HeldWarrants, type HeldWarrant } from './held-warrants.js';

/** Where a call may run: the receipt of the use it spent, and what to report against. */
export interface Allowed {
  readonly kind: 'allow';
  readonly receipt: string;
  readonly receiptId: string;
  readonly warrantId: string;
  readonly requestId: string;
  readonly use: number;
  readonly maxUses: number;
  /** The target its fulfilment names. */
  readonly target: string;
  /** The digest of the arguments the call was made with: what its fulfilment reports as applied. */
  readonly argumentsDigest: string;
}

/**
 * - a redemption denial code (`SCOPE_EXCEEDED`, `ARGUMENTS_MISMATCH`, `WARRANT_EXHAUSTED`, …);
 * - `APPROVAL_REQUIRED`: a request is filed and waits for approvers (or has lapsed);
 * - `APPROVAL_DENIED`: the approvers denied the request for this call;
 * - `ARGUMENTS_UNMAPPABLE`: the arguments name no resource the config can map;
 * - `COUNTERSIGN_UNAVAILABLE`: countersign could not be asked (the call is refused);
 * - any other code is the server's, refusing to file the request (e.g. `NO_MATCHING_POLICY`).
 */
export interface Refused {
  readonly kind: 'refuse';
  readonly code: string;
  readonly message: string;
  /** The request filed for this call, when there is one. */
  readonly request?: {
    readonly id: string;
    readonly state: string;
    readonly approvals: number;
    readonly requiredApprovals: number;
    readonly url: string;
  };
}

export type Verdict = Allowed | Refused | { readonly kind: 'ungated' };

export interface CheckOptions {
  readonly signal?: AbortSignal;
  /** Told while a call is held for approval (only with `waitMs`). */
  readonly progress?: (message: string) => Promise<void>;
}

export interface AuthorityOptions {
  /** Hold a call this long for a pending request to be decided (default 0: answer at once). */
  readonly waitMs?: number;
  readonly pollIntervalMs?: number;
  readonly now?: () => number;
  /** Remembers the requests filed, for callers that live one call long (hooks). */
  readonly memory?: RequestMemory;
}

/** Denials after which the warrant is of no further use to anyone. */
const SPENT = new Set([
  'WARRANT_EXHAUSTED',
  'WARRANT_EXPIRED',
  'WARRANT_REVOKED',
  'WARRANT_UNKNOWN',
  'KEY_REVOKED',
  'SIGNATURE_INVALID',
]);

export class ToolCallAuthority {
  readonly #held = new HeldWarrants();
  readonly #seen = new Set<string>();
  readonly #filed: FiledRequests;
  #refreshing: Promise<void> | undefined;

  constructor(
    private readonly client: CountersignClient,
    readonly config: GatingConfig,
    private readonly options: AuthorityOptions = {},
  ) {
    this.#filed = new FiledRequests(client, options.memory);
  }

  /** Throws `NON_CANONICAL_VALUE` for arguments no digest can cover. */
  async check(
    tool: string,
    args: Readonly<Record<string, unknown>>,
    o: CheckOptions = {},
  ): Promise<Verdict> {
    const rule = this.config.ruleFor(tool);
    if (rule === undefined) return { kind: 'ungated' };
    const mapping = mapCall(this.config, rule, tool, args);
    if (mapping.kind !== 'mapped') {
      return { kind: 'refuse', code: mapping.code, message: mapping.reason };
    }
    try {
      const first = await this.#redeem(mapping.call);
      if (first.kind === 'allow') return first;
      const filed = await this.#fileFor(mapping.call, first, o);
      if (filed.kind !== 'approved') return filed.refusal;
      // Approved while this call waited (or just before): spend the new warrant.
      const second = await this.#redeem(mapping.call);
      if (second.kind === 'allow') return second;
      return this.#refusal(second.denial ? second : first, filed.view);
    } catch (e) {
      return unavailable(e);
    }
  }

  /** Reports how the allowed call ended: a fulfilment of its target under its receipt. */
  async report(allowed: Allowed, outcome: 'success' | 'failure', detail?: string): Promise<void> {
    await this.client.fulfil({
      receipt: allowed.receipt,
      target: allowed.target,
      outcome,
      // What ran at the target: the exact arguments, as their digest.
      fingerprint: allowed.argumentsDigest,
      ...(detail === undefined ? {} : { detail: detail.slice(0, 2000) }),
    });
  }

  /** Spends a covering warrant, or learns why none can be: `denial` null when none is held. */
  async #redeem(call: MappedCall): Promise<Allowed | { kind: 'none'; denial: Denial | null }> {
    let denial: Denial | null = null;
    let refreshed = false;
    for (;;) {
      const choice = this.#held.choose(this.config, call, this.#now());
      if (choice === undefined) {
        if (refreshed) return { kind: 'none', denial };
        await this.#refresh();
        refreshed = true;
        continue;
      }
      const outcome = await this.#spend(choice.warrant, call);
      if (outcome.kind === 'allow') return outcome;
      denial = outcome;
      if (!SPENT.has(outcome.code)) return { kind: 'none', denial };
      this.#held.drop(choice.warrant.warrantId);
      this.#filed.retire(choice.warrant.requestId);
    }
  }

  async #spend(w: HeldWarrant, call: MappedCall): Promise<Allowed | Denial> {
    const action = redemptionActionOf(this.config, call, w.claims);
    try {
      const r = await this.client.redeem({
        warrant: w.token,
        action,
        // The SDK retries an idempotent redemption across a lost answer without spending twice.
        idempotencyKey: `mcp-${globalThis.crypto.randomUUID()}`,
      });
      return {
        kind: 'allow',
        receipt: r.receipt,
        receiptId: r.receiptId,
        warrantId: r.warrantId,
        requestId: r.requestId,
        use: r.use,
        maxUses: r.maxUses,
        target: action.target ?? 'default',
        argumentsDigest: call.argumentsDigest,
      };
    } catch (e) {
      if (isRedemptionDenial(e)) return { kind: 'deny', code: e.code, reason: e.detail };
      throw e;
    }
  }

  /**
   * Picks up the agent's approved tool-call warrants that this gateway does not hold yet.
   * A refresh already running may have read before this call's approval, so this one
   * waits for it, then reads again (sharing that read with whoever else is waiting).
   */
  async #refresh(): Promise<void> {
    const running = this.#refreshing;
    if (running !== undefined) await running.catch(() => undefined);
    this.#refreshing ??= (async () => {
      try {
        const approved = await this.client.listRequests({
          subject: this.config.subject,
          action: 'tool_call',
          state: 'approved',
          limit: 999,
        });
        for (const r of approved) {
          if (this.#seen.has(r.id)) continue;
          const view = await this.client.getWarrant(r.id);
          this.#seen.add(r.id);
          const held = view.state === 'active' ? heldWarrantOf(view, this.config) : undefined;
          if (held !== undefined) this.#held.add(held);
        }
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  async #fileFor(
    call: MappedCall,
    outcome: { denial: Denial | null },
    o: CheckOptions,
  ): Promise<{ kind: 'approved'; view: RequestView } | { kind: 'refused'; refusal: Refused }> {
    let view: RequestView;
    try {
      view = await this.#filed.ensure(pendingKeyOf(this.config, call), () =>
        requestInputOf(this.config, call),
      );
    } catch (e) {
      if (!(e instanceof CountersignApiError) || e.status >= 500) throw e;
      const message = `countersign would not file a request for this call: ${e.detail}`;
      return { kind: 'refused', refusal: { kind: 'refuse', code: e.code, message } };
    }
    const waitMs = this.options.waitMs ?? 0;
    if (view.state === 'pending' && waitMs > 0) {
      view = await this.#filed.wait(view, {
        waitMs,
        intervalMs: this.options.pollIntervalMs ?? 1000,
        signal: o.signal ?? new AbortController().signal,
        progress: async (v) => o.progress?.(approvalText(v, this.#url(v.id))),
      });
    }
    if (view.state === 'approved') return { kind: 'approved', view };
    return { kind: 'refused', refusal: this.#refusal(outcome, view) };
  }

  #refusal(outcome: { denial: Denial | null }, view: RequestView): Refused {
    const url = this.#url(view.id);
    const request = {
      id: view.id,
      state: view.state,
      approvals: view.approvals,
      requiredApprovals: view.requiredApprovals,
      url,
    };
    const asked = view.state === 'pending' ? approvalText(view, url) : deniedText(view, url);
    const { denial } = outcome;
    return {
      kind: 'refuse',
      code: denial?.code ?? (view.state === 'denied' ? 'APPROVAL_DENIED' : 'APPROVAL_REQUIRED'),
      message: denial ? `refused (${denial.code}): ${denial.reason}. ${asked}` : asked,
      request,
    };
  }

  #url(requestId: string): string {
    return new URL(`v1/requests/${encodeURIComponent(requestId)}`, this.client.baseUrl).href;
  }

  #now(): number {
    return this.options.now?.() ?? Date.now();
  }
}

interface Denial {
  readonly kind: 'deny';
  readonly code: string;
  readonly reason: string;
}

function approvalText(v: RequestView, url: string): string {
  return (
    `approval needed: request ${v.id} (${v.approvals} of ${v.requiredApprovals} approvals), ` +
    `retry after approval: ${url}`
  );
}

function deniedText(v: RequestView, url: string): string {
  return `the request for this call is ${v.state}: ${url}`;
}

/** Fails closed. The message names the failure, never a token or the call's arguments. */
function unavailable(e: unknown): Refused {
  const what = e instanceof CountersignApiError ? e.code : (e as Error).name;
  return {
    kind: 'refuse',
    code: 'COUNTERSIGN_UNAVAILABLE',
    message: `countersign could not be asked (${what}); the call was not made`,
  };
}
