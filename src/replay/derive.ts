/**
 * The state the log itself implies. Every row that the server keeps beside the log
 * (a warrant's use counter, a request's state, a finding's state) is a cache of what
 * the hashed leaves say; folding the leaves again, in log order, recomputes it, so a
 * row edited behind the server's back can be caught.
 */
import type { RequestState } from '../request/request.js';
import type { FindingState } from '../reconcile/finding.js';
import type { LoggedRecords } from './compare-records.js';
import { compactRecord, loggedRecord, RECORD_EVENTS, refOf } from './records.js';

export interface DerivedWarrant {
  readonly id: string;
  readonly requestId: string | null;
  /** The signed claims exactly as `warrant.issued` recorded them. */
  readonly claims: unknown;
  /** The signed `max_uses`, or null when the recorded claims carry none. */
  readonly maxUses: number | null;
  /** The key that signed it, as `warrant.issued` recorded it. */
  readonly kid: string | null;
  /** Allowed redemptions, in log order, with the use number each receipt carries. */
  readonly uses: { readonly index: number; readonly use: number | null }[];
  revoked: boolean;
  readonly index: number;
}

export interface DerivedRecord<S extends string> {
  state: S;
  /** The leaf index of the event that set `state` (or -1 for a queued event). */
  index: number;
  /** A finding's: whether reconciliation made its last resolution, so that it may reopen. */
  byReconciliation?: boolean;
}

/** An event the state machine of its record does not allow where it stands. */
export interface IllegalEvent {
  readonly index: number;
  readonly detail: string;
}

export interface DerivedState {
  readonly warrants: ReadonlyMap<string, DerivedWarrant>;
  readonly requests: ReadonlyMap<string, DerivedRecord<RequestState>>;
  readonly findings: ReadonlyMap<string, DerivedRecord<FindingState>>;
  /** Leaf index of each key's `key.revoked` event, by kid. */
  readonly keyRevocations: ReadonlyMap<string, number>;
  /** The decision, redemption, fulfilment and observation rows the events wrote. */
  readonly records: LoggedRecords;
  readonly illegal: readonly IllegalEvent[];
}

// Which request transition each event makes: [from, to]. Mirrors the services' calls of
// `transitionRequest` (decide.ts, revoke.ts, redeem.ts); a warrant revoked after its
// request was exhausted leaves it exhausted.
const REQUEST_MOVES: Readonly<Record<string, readonly [RequestState, RequestState]>> = {
  'request.expired': ['pending', 'expired'],
  'request.withdrawn': ['pending', 'withdrawn'],
  'decision.denied': ['pending', 'denied'],
  'warrant.issued': ['pending', 'approved'],
  'warrant.revoked': ['approved', 'revoked'],
  'warrant.exhausted': ['approved', 'exhausted'],
};

// Which finding transition each event makes: [from, to], where a null `from` is a raise.
// Only reconciliation reopens, and only a finding it resolved itself (the services' rule).
const FINDING_MOVES: Readonly<
  Record<string, readonly [readonly FindingState[] | null, FindingState]>
> = {
  'finding.raised': [null, 'open'],
  'finding.acknowledged': [['open'], 'acknowledged'],
  'finding.resolved': [['open', 'acknowledged'], 'resolved'],
  'finding.reopened': [['resolved'], 'open'],
};

const TYPES = new Set([
  'request.created',
  ...Object.keys(REQUEST_MOVES),
  ...Object.keys(RECORD_EVENTS),
  ...Object.keys(FINDING_MOVES),
  'key.revoked',
]);

// Leaves are RFC 8785 JSON, whose keys are sorted: the top-level `type` follows `data`
// and `links`, so its last occurrence is the event's own and most leaves need no parse.
const TYPE_MARK = ',"type":"';

/** The event type of a canonical leaf, read without parsing it. */
export function leafType(leaf: string): string | null {
  const at = leaf.lastIndexOf(TYPE_MARK);
  if (at < 0) return null;
  const from = at + TYPE_MARK.length;
  const end = leaf.indexOf('"', from);
  return end < 0 ? null : leaf.slice(from, end);
}

interface Leaf {
  readonly type: string;
  readonly at?: unknown;
  readonly actor?: unknown;
  readonly links: { readonly request?: unknown; readonly warrant?: unknown };
  readonly data: Readonly<Record<string, unknown>>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (Number.isSafeInteger(v) ? (v as number) : null);
const field = (v: unknown, key: string): unknown =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;

/** Whether an event is a resolution reconciliation made itself (`finding.resolved` by `countersign`). */
const automaticResolution = (e: Leaf): boolean =>
  e.type === 'finding.resolved' &&
  e.actor === 'countersign' &&
  field(e.data.resolution, 'automatic') === true;

/** Folds log leaves, in log order, into the state they imply. */
export class StateReplay {
  readonly #warrants = new Map<string, DerivedWarrant>();
  readonly #requests = new Map<string, DerivedRecord<RequestState>>();
  readonly #findings = new Map<string, DerivedRecord<FindingState>>();
  readonly #keyRevocations = new Map<string, number>();
  readonly #records: LoggedRecords = {
    decisions: new Map(),
    redemptions: new Map(),
    fulfilments: new Map(),
    observations: new Map(),
  };
  readonly #illegal: IllegalEvent[] = [];

  /** Revocation index of each key revoked so far, by kid: a live view, filled as leaves come. */
  get keyRevocations(): ReadonlyMap<string, number> {
    return this.#keyRevocations;
  }

  /**
   * Applies one leaf; `index` is its leaf index, or -1 for an event still queued, whose
   * `queuedId` (its events row id) is what a row written with it names.
   */
  apply(index: number, leaf: string, queuedId?: number): void {
    const type = leafType(leaf);
    if (type === null || !TYPES.has(type)) return;
    let event: Leaf;
    try {
      event = JSON.parse(leaf) as Leaf;
    } catch {
      return; // the hash audit reports a leaf that is not JSON
    }
    if (event.type !== type) return;
    const request = str(event.links.request);
    const warrant = str(event.links.warrant);
    if (type === 'request.created' && request !== null) {
      if (this.#requests.has(request)) this.#bad(index, `request ${request} is created twice`);
      else this.#requests.set(request, { state: 'pending', index });
    }
    const move = REQUEST_MOVES[type];
    if (move !== undefined && request !== null) this.#moveRequest(index, type, request, move);
    if (type === 'warrant.issued' && warrant !== null) this.#issue(index, warrant, request, event);
    if (type === 'warrant.revoked' && warrant !== null) {
      const w = this.#warrants.get(warrant);
      if (w) w.revoked = true;
    }
    if (type === 'redemption.allowed' && warrant !== null) {
      const w = this.#warrants.get(warrant);
      const use = int(field(event.data.receipt, 'use'));
      if (w) w.uses.push({ index, use });
      else this.#bad(index, `warrant ${warrant} is redeemed but was never issued`);
      // A revoked key's warrants are refused from its revocation on (decision 0016).
      const revokedAt = w?.kid ? this.#keyRevocations.get(w.kid) : undefined;
      if (revokedAt !== undefined) {
        this.#bad(
          index,
          `warrant ${warrant} is redeemed after its key was revoked at ${revokedAt}`,
        );
      }
    }
    const finding = FINDING_MOVES[type];
    const findingId = str(event.data.id);
    if (finding !== undefined && findingId !== null) {
      this.#moveFinding(index, findingId, finding, automaticResolution(event));
    }
    if (type === 'key.revoked') {
      const kid = str(event.data.kid);
      if (kid !== null && !this.#keyRevocations.has(kid)) this.#keyRevocations.set(kid, index);
    }
    const queued = index >= 0 ? null : (queuedId ?? null);
    const logged = loggedRecord(event, index, refOf({ index, queuedId: queued }));
    if (logged !== null) {
      const { table, key, record } = logged;
      const rows = this.#records[table];
      if (rows.has(key)) this.#bad(index, `${table} row ${key} is logged twice`);
      else rows.set(key, compactRecord(record, queued));
    }
  }

  result(): DerivedState {
    return {
      warrants: this.#warrants,
      requests: this.#requests,
      findings: this.#findings,
      keyRevocations: this.#keyRevocations,
      records: this.#records,
      illegal: this.#illegal,
    };
  }

  #bad(index: number, detail: string): void {
    this.#illegal.push({ index, detail });
  }

  #moveRequest(
    index: number,
    type: string,
    id: string,
    [from, to]: readonly [RequestState, RequestState],
  ): void {
    const r = this.#requests.get(id);
    if (r === undefined) return this.#bad(index, `${type} for request ${id}, never created`);
    if (r.state === from) {
      r.state = to;
      r.index = index;
    } else if (!(type === 'warrant.revoked' && r.state === 'exhausted')) {
      this.#bad(index, `${type} for request ${id}, which was ${r.state}`);
    }
  }

  #issue(index: number, id: string, requestId: string | null, event: Leaf): void {
    if (this.#warrants.has(id)) return this.#bad(index, `warrant ${id} is issued twice`);
    const claims = event.data.claims;
    this.#warrants.set(id, {
      id,
      requestId,
      claims,
      kid: str(event.data.kid),
      maxUses: int(field(claims, 'max_uses')),
      uses: [],
      revoked: false,
      index,
    });
  }

  #moveFinding(
    index: number,
    id: string,
    [from, to]: readonly [readonly FindingState[] | null, FindingState],
    automatic: boolean,
  ): void {
    const f = this.#findings.get(id);
    if (from === null) {
      if (f) this.#bad(index, `finding ${id} is raised twice`);
      else this.#findings.set(id, { state: to, index });
      return;
    }
    if (f === undefined) return this.#bad(index, `finding ${id} changes but was never raised`);
    if (!from.includes(f.state)) {
      return this.#bad(index, `finding ${id} moves from ${f.state} to ${to}`);
    }
    if (to === 'open' && f.byReconciliation !== true) {
      return this.#bad(index, `finding ${id} is reopened, but a person resolved it`);
    }
    f.state = to;
    f.index = index;
    f.byReconciliation = to === 'resolved' && automatic;
  }
}
