import type { Decision } from '../../approval/decision.js';
import type { RequestId, WarrantId } from '../../core/ids.js';
import type { RequestRecord, RequestState } from '../../request/request.js';

/** Where a page of requests starts: after this row, in the page's order. */
export interface RequestCursor {
  readonly createdAt: string;
  readonly id: string;
}

export interface RequestListFilter {
  /** Stored states (a pending request past its deadline is still stored `pending`). */
  readonly states?: readonly RequestState[];
  /** Only pending requests whose deadline lies after this instant: the ones still decidable. */
  readonly pendingAt?: string;
  /** Only requests expired at this instant: stored `expired`, or pending past their deadline. */
  readonly expiredAt?: string;
  /** The NHI the requests are for, as registered. */
  readonly subject?: string;
  readonly requester?: string;
  /** Leaves out the requests of this requester. */
  readonly notRequester?: string;
  /** Leaves out the requests this approver has decided on. */
  readonly notDecidedBy?: string;
  /** By creation time, then id: `newest` (the default) or `oldest` first. */
  readonly order?: 'oldest' | 'newest';
  /** Keyset pagination: only rows after this one in the order. */
  readonly after?: RequestCursor;
  readonly limit: number;
}

/** Requests and the decisions on them. */
export interface RequestReader {
  get(id: RequestId): Promise<RequestRecord | null>;
  list(filter: RequestListFilter): Promise<RequestRecord[]>;
  decisions(requestId: RequestId): Promise<Decision[]>;
  /** How many approvals each of `ids` has (requests with none are absent): one grouped count. */
  approvalCounts(ids: readonly RequestId[]): Promise<Map<RequestId, number>>;
}

export interface RequestWriter extends RequestReader {
  insert(record: RequestRecord): Promise<void>;
  /** Moves a request from `from` to `to`; false when it was no longer in `from`. */
  transition(
    id: RequestId,
    from: RequestState,
    to: RequestState,
    at: string,
    warrantId?: WarrantId,
  ): Promise<boolean>;
  insertDecision(decision: Decision): Promise<void>;
  /**
   * Locks the request's row until the transaction ends, so that decisions on it are
   * counted one at a time (PostgreSQL `SELECT … FOR UPDATE`; SQLite serialises writers).
   */
  lock(id: RequestId): Promise<void>;
}
