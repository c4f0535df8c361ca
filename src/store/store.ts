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
  /** The NHI registered under exactly this id. */
  getNhi(id: NhiId): Promise<Nhi | null>;
  /** The NHI whose comparison key (`nhiKey`) is `key`. */
  getNhiByKey(key: string): Promise<Nhi | null>;
  /** Inserts under `nhiKey(nhi.id)`; a second NHI with the same key violates a unique index. */
  insertNhi(nhi: Nhi): Promise<void>;
  /** Moves the NHI from owner `from` to `to`; false when its owner was no longer `from`. */
  setNhiOwner(id: NhiId, from: string, to: string): Promise<boolean>;

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
   * Spends one use atomically: a conditional update with no read-then-write window,
   * bounded by the warrant's signed `max_uses` (never only by the mutable row). Returns
   * the new use count, or null when the warrant was exhausted or not active.
   */
  consumeWarrantUse(id: WarrantId, signedMaxUses: number): Promise<number | null>;
  revokeWarrant(id: WarrantId, by: string, reason: string, at: string): Promise<boolean>;

  insertRedemption(row: RedemptionRow): Promise<void>;
  listRedemptions(warrantId: WarrantId): Promise<RedemptionRow[]>;

  /** Appends an event to the log queue; the sequencer assigns its leaf index. */
  appendEvent(event: EncodedEvent): Promise<number>;

  /**
   * Records a federated token as spent until `expiresAt` (epoch seconds), atomically
   * across nodes: true when this call spent it, false when a record of it is still
   * live at `now` (a replay). A record that expired before `now` is taken over.
   */
  spendToken(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean>;
  /** Deletes the spent-token records that expired before `before`; returns how many. */
  forgetSpentTokens(before: number): Promise<number>;

  listKeys(): Promise<SigningKeyRecord[]>;
  insertKey(key: SigningKeyRecord): Promise<void>;
  setKeyState(kid: string, state: KeyState, at: string): Promise<void>;

  // Serialising locks, held until the transaction ends. Take them first in a transaction,
  // before reading what they guard. On SQLite they are no-ops (BEGIN IMMEDIATE already
  // serialises every writer); on PostgreSQL, where transactions run at READ COMMITTED on
  // several nodes at once, they make the read-then-write use cases safe.
  /** The log sequencer: one integrator at a time extends the tree and signs a checkpoint. */
  lockLog(): Promise<void>;
  /** The key ring: creating the first key or promoting a new one happens once. */
  lockKeyRing(): Promise<void>;
  /** One request row (`SELECT … FOR UPDATE`): decisions on it are counted one at a time. */
  lockRequest(id: RequestId): Promise<void>;
}

export interface Store extends Repo {
  readonly dialect: Dialect;
  /**
   * Runs `fn` in one transaction. On PostgreSQL `fn` may run more than once: a
   * serialization failure, a deadlock, a lost race on a unique key, or a connection lost
   * before COMMIT reruns it as a whole, so it must have no effects outside `tx`.
   */
  transaction<T>(fn: (tx: Repo) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` over one consistent, read-only view of the database (a read transaction on
   * SQLite, REPEATABLE READ READ ONLY on PostgreSQL), for audits that compare tables
   * with the log. `fn` must not write.
   */
  snapshot<T>(fn: (view: Repo) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
