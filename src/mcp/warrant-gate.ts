/**
 * The gate of a gating gateway: every gated `tools/call` is answered by the authority
 * (a redemption, or a refusal the agent can act on), and every forwarded one is reported
 * as a fulfilment of its target once the upstream has answered.
 */
import type { Allowed, ToolCallAuthority, Verdict } from './authority.js';
import type { CallOutcome, GateDecision, ToolCall, ToolCallGate } from './gate.js';

/** Where a forwarded result carries its receipt, and a refusal its machine-readable reason. */
export const RECEIPT_META = 'countersign/receipt';
export const REFUSAL_META = 'countersign/refusal';

export function warrantGate(authority: ToolCallAuthority): ToolCallGate {
  const allowed = new WeakMap<ToolCall, Allowed>();
  return {
    async decide(call, ctx): Promise<GateDecision> {
      const verdict: Verdict = await authority.check(call.name, call.arguments, {
        signal: ctx.signal,
        progress: (m) => ctx.progress(m),
      });
      switch (verdict.kind) {
        case 'ungated':
          return { kind: 'forward' };
        case 'allow': {
          allowed.set(call, verdict);
          const { receipt, receiptId, warrantId, requestId, use, maxUses } = verdict;
          return {
            kind: 'forward',
            meta: { [RECEIPT_META]: { receipt, receiptId, warrantId, requestId, use, maxUses } },
          };
        }
        case 'refuse':
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
    },
    async after(call, outcome) {
      const a = allowed.get(call);
      if (a === undefined) return;
      const [result, detail] = fulfilmentOf(outcome);
      await authority.report(a, result, detail);
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
