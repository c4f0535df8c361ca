/**
 * @internal What the log shows after a redemption: fulfilments at each target (applying
 * or revoking), what collectors observed, and the findings reconciliation raised.
 */
import type { CustodyFinding, CustodyFulfilment, CustodyObservation } from './chain.js';
import type { EvidenceEvent } from './read.js';
import { member, str } from './read.js';

export function fulfilmentOf(e: EvidenceEvent): CustodyFulfilment {
  return {
    type: e.type,
    at: e.at,
    actor: e.actor,
    target: str(e.data.target),
    phase: str(e.data.phase) ?? 'apply',
    outcome: str(e.data.outcome),
    fingerprint: str(e.data.fingerprint),
  };
}

function factText(fact: unknown): string {
  const kind = str(member(fact, 'kind'));
  if (kind === 'secret_version') return `version ${str(member(fact, 'fingerprint')) ?? '?'}`;
  if (kind === 'grant') {
    const present = member(fact, 'present') === false ? 'absent' : 'present';
    return `${str(member(fact, 'resource')) ?? '?'}=${str(member(fact, 'permission')) ?? '?'} ${present}`;
  }
  return '(unknown fact)';
}

export function observationOf(e: EvidenceEvent): CustodyObservation {
  return {
    at: e.at,
    observedAt: str(e.data.observedAt),
    actor: e.actor,
    target: str(e.data.target),
    kind: str(member(e.data.fact, 'kind')),
    fact: factText(e.data.fact),
  };
}

/** Folds `finding.*` events, in log order, into each finding's last known state. */
export class FindingFolder {
  readonly #byId = new Map<string, CustodyFinding>();
  readonly #order: CustodyFinding[] = [];

  apply(e: EvidenceEvent): void {
    const id = str(e.data.id);
    if (e.type === 'finding.raised') {
      const f: CustodyFinding = {
        id,
        kind: str(e.data.kind),
        target: str(e.data.target),
        detail: str(e.data.detail),
        raisedAt: e.at,
        state: 'open',
      };
      this.#order.push(f);
      if (id !== null) this.#byId.set(id, f);
      return;
    }
    const f = id === null ? undefined : this.#byId.get(id);
    if (f === undefined) return;
    const reopened = e.type === 'finding.reopened';
    // Only a resolved finding reopens, and a resolved one moves only by reopening.
    if (reopened !== (f.state === 'resolved')) return;
    const next: CustodyFinding = reopened
      ? { ...f, state: 'open', detail: str(e.data.detail) }
      : { ...f, state: e.type === 'finding.resolved' ? 'resolved' : 'acknowledged' };
    this.#order[this.#order.indexOf(f)] = next;
    this.#byId.set(id as string, next);
  }

  get findings(): readonly CustodyFinding[] {
    return this.#order;
  }
}
