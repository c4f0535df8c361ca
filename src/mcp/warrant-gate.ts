/**
 * The gate of a gating gateway: every gated `tools/call` is answered by the authority
 * (a redemption, or a refusal the agent can act on), and every forwarded one is reported
 * as a fulfilment of its target once the upstream has answered.
 */
import type { Allowed, Refused, ToolCallAuthority, Verdict } from './authority.js';
import type { CallOutcome, GateDecision, ToolCall, ToolCallGate } from './gate.js';

/** Where a forwarded result carries its receipt, and a refusal its machine-readable reason. */
export const RECEIPT_META = 'countersign/receipt';
export const REFUSAL_META = 'countersign/refusal';

/**
 * `authorityFor` answers for the agent a call is made for: the configured one, or the
 * one a session's verified token names (undefined when the call names none).
 */
export function warrantGate(
  authorityFor: (agent: string | undefined) => ToolCallAuthority | undefined,
): ToolCallGate {
  const allowed = new WeakMap<ToolCall, { authority: ToolCallAuthority; allowed: Allowed }>();
  return {
    async decide(call, ctx): Promise<GateDecision> {
      const authority = authorityFor(call.agent);
      if (authority === undefined) {
        return refusal({
          kind: 'refuse',
          code: 'AGENT_UNAUTHENTICATED',
          message: 'this gateway names agents by token, and the call came with none',
        });
      }
      const verdict: Verdict = await authority.check(call.name, call.arguments, {
        signal: ctx.signal,
        progress: (m) => ctx.progress(m),
      });
      switch (verdict.kind) {
        case 'ungated':
          return { kind: 'forward' };
        case 'allow': {
          allowed.set(call, { authority, allowed: verdict });
          const { receipt, receiptId, warrantId, requestId, use, maxUses } = verdict;
          return {
            kind: 'forward',
            meta: { [RECEIPT_META]: { receipt, receiptId, warrantId, requestId, use, maxUses } },
          };
        }
        case 'refuse':
          return refusal(verdict);
      }
    },
    async after(call, outcome) {
      const a = allowed.get(call);
      if (a === undefined) return;
      const [result, detail] = fulfilmentOf(outcome);
      await a.authority.report(a.allowed, result, detail);
    },
  };
}

function refusal(verdict: Refused): GateDecision {
  return {
    kind: 'refuse',
    result: {
      content: [{ type: 'text', text: verdict.message }],
      isError: true,
      _meta: {
        [REFUSAL_META]: {
          code: verdict.code,
          ...(verdict.request ? { request: verdict.request } : {}),
        },
      },
    },
  };
}

/**
 * The fulfilment an outcome reports. Its detail is fixed text: what the upstream said
 * may quote the arguments, and fulfilments go into the log.
 */
function fulfilmentOf(outcome: CallOutcome): ['success' | 'failure', string] {
  switch (outcome.kind) {
    case 'returned':
      return outcome.result.isError === true
        ? ['failure', 'the tool answered with isError']
        : ['success', 'the tool answered'];
    case 'failed':
      return ['failure', 'the upstream failed or went away before it answered'];
    case 'cancelled':
      return ['failure', 'the agent cancelled the call before the upstream answered'];
  }
}
