import type { Decision } from '../../approval/decision.js';
import type { RequestId, WarrantId } from '../../core/ids.js';
import type { RequestRecord, RequestState } from '../../request/request.js';

export interface RequestListFilter {
  readonly state?: RequestState;
  /** The NHI the requests are for, as registered. */
  readonly subject?: string;
  readonly limit: number;
}

/** Requests and the decisions on them. */
export interface RequestReader {
  get(id: RequestId): Promise<RequestRecord | null>;
  list(filter: RequestListFilter): Promise<RequestRecord[]>;
  decisions(requestId: RequestId): Promise<Decision[]>;
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
