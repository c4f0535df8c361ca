import type { Generated } from 'kysely';

/**
 * Table shapes shared by every dialect. Timestamps are RFC 3339 text (sortable on
 * both SQLite and PostgreSQL); hashes are lowercase hex; JSON is canonical text.
 */
export interface NhisTable {
  id: string;
  /**
   * `nhiKey(id)`, unique (007). A row whose key collided when 007 computed it keeps
   * `<key>#<id>`, reachable only by its exact id.
   */
  key: string;
  kind: string;
  owner: string;
  description: string | null;
  created_at: string;
  created_by: string;
}

export interface RequestsTable {
  id: string;
  body: string;
  state: string;
  requester: string;
  subject: string;
  environment: string;
  created_at: string;
  pending_expires_at: string;
  warrant_id: string | null;
  updated_at: string;
}

export interface DecisionsTable {
  id: string;
  request_id: string;
  request_digest: string;
  approver: string;
  decision: string;
  reason: string;
  at: string;
  /** Canonical JSON of the approver's `IdentityProof`; null on rows from before 004. */
  approver_identity: string | null;
}

export interface WarrantsTable {
  id: string;
  request_id: string;
  kid: string;
  token: string;
  claims: string;
  uses: number;
  max_uses: number;
  state: string;
  issued_at: string;
  /** The exact approved window (RFC 3339, milliseconds); null only before migration 006 ran. */
  not_before: string | null;
  not_after: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  expiry_recorded_at: Generated<string | null>;
}

export interface RedemptionsTable {
  seq: Generated<number>;
  id: string;
  warrant_id: string | null;
  outcome: string;
  code: string | null;
  use_number: number | null;
  executor: string;
  action: string;
  at: string;
  /** The event that recorded it; null on rows from before migration 008. */
  event_id: number | null;
  /** The caller's idempotency key (migration 009), if it sent one. */
  idempotency_key: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  type: string;
  at: string;
  actor: string;
  request_id: string | null;
  warrant_id: string | null;
  nhi_id: string | null;
  leaf: string;
  leaf_hash: string;
  leaf_index: number | null;
}

export interface SigningKeysTable {
  kid: string;
  public_jwk: string;
  sealed_private: string;
  state: string;
  created_at: string;
  revoked_at: string | null;
}

export interface LogNodesTable {
  level: number;
  idx: number;
  hash: string;
}

export interface CheckpointsTable {
  size: number;
  root: string;
  note: string;
  kid: string;
  at: string;
}

export interface FulfilmentsTable {
  id: string;
  request_id: string;
  warrant_id: string;
  receipt_id: string;
  executor: string;
  subject: string;
  target: string;
  phase: string;
  outcome: string;
  fingerprint: string | null;
  detail: string | null;
  at: string;
  event_id: number;
}

export interface ObservationsTable {
  id: string;
  key: string;
  observer: string;
  subject: string;
  target: string;
  fact_key: string;
  fact: string;
  observed_at: string;
  received_at: string;
  event_id: number;
}

export interface FindingsTable {
  id: string;
  key: string;
  kind: string;
  state: string;
  request_id: string | null;
  warrant_id: string | null;
  subject: string;
  target: string | null;
  detail: string;
  evidence: string;
  raised_at: string;
  updated_at: string;
  resolution: string | null;
  event_id: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint: string;
  event_type: string;
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
}

/** A brokered grant and its revocation schedule (see migration 010). */
export interface GrantsTable {
  id: string;
  connector: string;
  warrant_id: string;
  request_id: string;
  subject: string;
  handle: string;
  fingerprint: string | null;
  state: string;
  due_at: string;
  created_at: string;
  attempts: Generated<number>;
  next_attempt_at: string | null;
  last_error: string | null;
  revoked_at: string | null;
  /** Which node holds the revocation, and until when (RFC 3339); null when unclaimed. */
  lease_owner: string | null;
  lease_until: string | null;
}

/** A spent federated token (see migration 005); `expires_at` is in epoch seconds. */
export interface TokenReplaysTable {
  issuer: string;
  jti: string;
  expires_at: number;
}

/** The last complete reconciliation pass's reach (migration 016). */
export interface ReconcileWatermarksTable {
  name: string;
  tree_size: number;
  at: string;
  params: string;
  full_at: string;
}

export interface Database {
  fulfilments: FulfilmentsTable;
  observations: ObservationsTable;
  findings: FindingsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  grants: GrantsTable;
  token_replays: TokenReplaysTable;
  log_nodes: LogNodesTable;
  checkpoints: CheckpointsTable;
  nhis: NhisTable;
  requests: RequestsTable;
  decisions: DecisionsTable;
  warrants: WarrantsTable;
  redemptions: RedemptionsTable;
  events: EventsTable;
  signing_keys: SigningKeysTable;
  reconcile_watermarks: ReconcileWatermarksTable;
}
