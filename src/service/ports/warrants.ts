import type { WarrantId } from '../../core/ids.js';
import type { WarrantRecord } from '../../warrant/warrant.js';

/** One redemption as stored: allowed with its use number, or denied with its code. */
export interface RedemptionRow {
  readonly id: string;
  readonly warrantId: WarrantId | null;
  readonly outcome: 'allow' | 'deny';
  readonly code: string | null;
  readonly useNumber: number | null;
  readonly executor: string;
  readonly action: unknown;
  readonly at: string;
  /** The id of the event that recorded it. */
  readonly eventId: number;
  /** The caller's idempotency key, if it sent one. */
  readonly idempotencyKey?: string | null;
}

/** Warrants and their redemptions. */
export interface WarrantReader {
  get(id: WarrantId): Promise<WarrantRecord | null>;
  getByRequest(requestId: string): Promise<WarrantRecord | null>;
  redemptions(warrantId: WarrantId): Promise<RedemptionRow[]>;
  /** The allowed redemption this executor made with this idempotency key, if any. */
  allowedByKey(executor: string, key: string): Promise<RedemptionRow | null>;
  /** The allowed redemption a receipt names by its id (`jti`), if it was recorded. */
  allowedById(id: string): Promise<RedemptionRow | null>;
}

export interface WarrantWriter extends WarrantReader {
  insert(record: WarrantRecord): Promise<void>;
  /**
   * `get`, locking the warrant's row until the transaction ends (PostgreSQL `SELECT … FOR
   * UPDATE`; SQLite serialises writers), so that what the transaction reads of the warrant
   * and its redemptions is what it spends against: under READ COMMITTED a concurrent spend
   * or revocation would otherwise show only at `consumeUse`, too late to tell which it was.
   */
  getLocked(id: WarrantId): Promise<WarrantRecord | null>;
  /** Fills in the token of a warrant signed after the transaction that issued it. */
  setToken(id: WarrantId, token: string): Promise<void>;
  /**
   * **The single-use guarantee.** Spends one use in one conditional statement, with no
   * read-then-write window: only while the warrant is active and its count is below
   * both the row's `max_uses` and the warrant's *signed* `max_uses`. Returns the new
   * use number, or null when no use was left (or the warrant is not active).
   */
  consumeUse(id: WarrantId, signedMaxUses: number): Promise<number | null>;
  revoke(id: WarrantId, by: string, reason: string, at: string): Promise<boolean>;
  recordRedemption(row: RedemptionRow): Promise<void>;
}
