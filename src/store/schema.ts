import type { Generated } from 'kysely';

/**
 * Table shapes shared by every dialect. Timestamps are RFC 3339 text (sortable on
 * both SQLite and PostgreSQL); hashes are lowercase hex; JSON is canonical text.
 */
export interface NhisTable {
  id: string;
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
  revoked_at: string | null;
  revoked_by: string | null;
  revoke_reason: string | null;
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

export interface Database {
  log_nodes: LogNodesTable;
  checkpoints: CheckpointsTable;
  nhis: NhisTable;
  requests: RequestsTable;
  decisions: DecisionsTable;
  warrants: WarrantsTable;
  redemptions: RedemptionsTable;
  events: EventsTable;
  signing_keys: SigningKeysTable;
}
