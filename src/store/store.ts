import type { Decision } from '../approval/decision.js';
import type { NhiId, RequestId, WarrantId } from '../core/ids.js';
import type { SigningKeyRecord, KeyState } from '../keys/keyring.js';
import type { EncodedEvent } from '../log/event.js';
import type { Nhi } from '../nhi/nhi.js';
import type { RequestRecord, RequestState } from '../request/request.js';
import type { WarrantRecord } from '../warrant/warrant.js';
import type { LogRepo } from './log-repo.js';
import type { ReconcileRepo } from './reconcile-repo.js';
import type { Dialect } from './migrations.js';

export interface RedemptionRow {
  readonly id: string;
  readonly warrantId: WarrantId | null;
  readonly outcome: 'allow' | 'deny';
  readonly code: string | null;
  readonly useNumber: number | null;
  readonly executor: string;
  readonly action: unknown;
  readonly at: string;
}

export interface RequestListFilter {
  readonly state?: RequestState;
  readonly limit: number;
}

/**
 * The persistence port. Services see only this; adapters implement it per dialect.
 * Every write a use case makes goes through one `transaction`, together with the
 * event that records it.
 */
export interface Repo extends LogRepo, ReconcileRepo {
  getNhi(id: NhiId): Promise<Nhi | null>;
  insertNhi(nhi: Nhi): Promise<void>;

  getRequest(id: RequestId): Promise<RequestRecord | null>;
  listRequests(filter: RequestListFilter): Promise<RequestRecord[]>;
  insertRequest(record: RequestRecord): Promise<void>;
  /** Moves a request from `from` to `to`; false when it was no longer in `from`. */
  transitionRequest(
    id: RequestId,
    from: RequestState,
    to: RequestState,
    at: string,
    warrantId?: WarrantId,
  ): Promise<boolean>;

  listDecisions(requestId: RequestId): Promise<Decision[]>;
  insertDecision(decision: Decision): Promise<void>;

  getWarrant(id: WarrantId): Promise<WarrantRecord | null>;
  getWarrantByRequest(requestId: RequestId): Promise<WarrantRecord | null>;
  insertWarrant(record: WarrantRecord): Promise<void>;
  /**
   * Spends one use atomically: a conditional update with no read-then-write window.
   * Returns the new use count, or null when the warrant was exhausted or not active.
   */
  consumeWarrantUse(id: WarrantId): Promise<number | null>;
  revokeWarrant(id: WarrantId, by: string, reason: string, at: string): Promise<boolean>;

  insertRedemption(row: RedemptionRow): Promise<void>;
  listRedemptions(warrantId: WarrantId): Promise<RedemptionRow[]>;

  /** Appends an event to the log queue; the sequencer assigns its leaf index. */
  appendEvent(event: EncodedEvent): Promise<number>;

  listKeys(): Promise<SigningKeyRecord[]>;
  insertKey(key: SigningKeyRecord): Promise<void>;
  setKeyState(kid: string, state: KeyState, at: string): Promise<void>;
}

export interface Store extends Repo {
  readonly dialect: Dialect;
  transaction<T>(fn: (tx: Repo) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
