/**
 * Brokered grants: the credentials a connector minted at redemption, and the durable
 * schedule that revokes them. A grant row is written *before* the connector is asked
 * (state `pending`), so a grant whose answer was lost is still found and revoked.
 */

export type GrantState =
  /** The connector was asked; no redemption has recorded the answer yet. */
  | 'pending'
  /** Minted and recorded under a receipt; revoked at `dueAt` (the window's end). */
  | 'live'
  /**
   * The connector answered (or failed) but no redemption will record it: a grant minted
   * for a redemption refused after all. Nothing is in flight, so it is revoked when due.
   */
  | 'abandoned'
  /** Revocation confirmed by the connector. */
  | 'revoked'
  /** The connector refused or failed; nothing to revoke is known to exist. */
  | 'failed';

export interface GrantRow {
  /** The grant id the connector was given (the receipt id of its redemption). */
  readonly id: string;
  readonly connector: string;
  readonly warrantId: string;
  readonly requestId: string;
  readonly subject: string;
  /** What revoke needs (e.g. a role name); never secret. Known before the answer for idempotent connectors. */
  readonly handle: string;
  /** The SHA-256 fingerprint of the credential, once minted. */
  readonly fingerprint: string | null;
  readonly state: GrantState;
  /** When revocation is due (RFC 3339): the window's end, or earlier on revoke. */
  readonly dueAt: string;
  readonly createdAt: string;
  /** Failed revocation attempts so far, and when to try again. */
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly lastError: string | null;
  readonly revokedAt: string | null;
}

export interface GrantReader {
  get(id: string): Promise<GrantRow | null>;
  byWarrant(warrantId: string): Promise<GrantRow[]>;
  /** Grants past `dueAt` not yet revoked (live, or pending older than `pendingBefore`). */
  overdue(now: string, pendingBefore: string): Promise<GrantRow[]>;
  /** Revoked grants that fell due at or after `dueSince`, newest first (at most 1,000): those whose absence may still need observing. */
  revokedSince(dueSince: string): Promise<GrantRow[]>;
  /** For `/readyz`: live grants past due, those with failed attempts, and the oldest due time. */
  backlog(now: string): Promise<RevocationBacklog>;
}

export interface RevocationBacklog {
  readonly overdue: number;
  readonly failing: number;
  readonly oldestDueAt: string | null;
}

export interface GrantWriter extends GrantReader {
  insert(row: GrantRow): Promise<void>;
  /** `pending` → `live` with the fingerprint; false when the row was not pending. */
  markLive(id: string, fingerprint: string): Promise<boolean>;
  markFailed(id: string, error: string): Promise<void>;
  /**
   * The redemption that asked for this grant will not record it: `abandoned`, due at
   * once. From `pending` or `live` (refused in the same transaction), and from `revoked`:
   * a grant the connector made after a sweep had revoked its still-empty handle.
   */
  abandon(id: string, at: string): Promise<void>;
  /** Brings one grant's revocation forward (a grant refused or lost): `dueAt = min(dueAt, at)`. */
  dueNow(id: string, at: string): Promise<void>;
  /** Brings revocation forward (on warrant or key revocation): `dueAt = min(dueAt, at)`. */
  dueBy(warrantId: string, at: string): Promise<void>;
  /** On key revocation: every grant of a warrant signed by `kid`; how many were brought forward. */
  dueByKey(kid: string, at: string): Promise<number>;
  /**
   * **Exactly one node revokes each grant.** Claims a due grant for `leaseMs` with one
   * conditional update: only when it is live or pending, due, and unclaimed or its lease
   * has lapsed, and its next attempt is due. True when this caller holds the lease.
   */
  claim(id: string, owner: string, now: string, leaseUntil: string): Promise<boolean>;
  /**
   * Marks a revocable grant revoked. False when it was not revocable any more (another
   * node confirmed first), so that one revocation is recorded once.
   */
  markRevoked(id: string, at: string): Promise<boolean>;
  /**
   * A failed attempt: count it, keep the error (no secrets), retry at `nextAttemptAt`,
   * and give up the lease if `owner` still holds it.
   */
  recordFailure(id: string, owner: string, error: string, nextAttemptAt: string): Promise<void>;
}
