/**
 * The persistence ports the use cases declare. A store implements them by composition
 * (one small repository per aggregate over one database handle). What a store hands
 * out outside a transaction can only read: every write goes through `transaction`,
 * together with the log event that records it.
 */
import type { AuditReader } from './audit.js';
import type { FindingReader, FindingWriter } from './findings.js';
import type { FulfilmentReader, FulfilmentWriter } from './fulfilments.js';
import type { GrantReader, GrantWriter } from './grants.js';
import type { KeyReader, KeyWriter } from './keys.js';
import type { LogReader, LogWriter } from './log.js';
import type { NhiReader, NhiWriter } from './nhis.js';
import type { ObservationReader, ObservationWriter } from './observations.js';
import type { ReconciliationReader, ReconciliationWriter } from './reconciliation.js';
import type { TokenReplayWriter } from './replay.js';
import type { SpentUse, UseSpend } from './spend.js';
import type { RequestReader, RequestWriter } from './requests.js';
import type { WarrantReader, WarrantWriter } from './warrants.js';
import type { WebhookReader, WebhookWriter } from './webhooks.js';

/** What can be read, in a transaction, a snapshot or at any time. */
export interface ReadPorts {
  readonly nhis: NhiReader;
  readonly requests: RequestReader;
  readonly warrants: WarrantReader;
  readonly log: LogReader;
  readonly keys: KeyReader;
  readonly fulfilments: FulfilmentReader;
  readonly observations: ObservationReader;
  readonly findings: FindingReader;
  readonly reconciliation: ReconciliationReader;
  readonly webhooks: WebhookReader;
  readonly grants: GrantReader;
  readonly audit: AuditReader;
}

/** What a transaction can read and write. */
export interface TxPorts extends ReadPorts {
  readonly nhis: NhiWriter;
  readonly requests: RequestWriter;
  readonly warrants: WarrantWriter;
  readonly log: LogWriter;
  readonly keys: KeyWriter;
  readonly fulfilments: FulfilmentWriter;
  readonly observations: ObservationWriter;
  readonly findings: FindingWriter;
  readonly reconciliation: ReconciliationWriter;
  readonly webhooks: WebhookWriter;
  readonly grants: GrantWriter;
  readonly replay: TokenReplayWriter;
}

export type Dialect = 'sqlite' | 'postgres';

/** How busy the store's connections are right now (for metrics; read without I/O). */
export interface PoolUsage {
  /** Connections running a query or transaction. */
  readonly inUse: number;
  /** Connections open and free. */
  readonly idle: number;
  /** Work queued for a connection: pg's waiting clients, or SQLite's next group commit. */
  readonly waiting: number;
}

export interface Store {
  readonly dialect: Dialect;
  /** Reads outside any transaction, each statement on its own. */
  readonly read: ReadPorts;
  /**
   * Runs `fn` in one transaction. On PostgreSQL `fn` may run more than once: a
   * serialization failure, a deadlock, a lost race on a unique key, or a connection lost
   * before COMMIT reruns it as a whole, so it must have no effects outside `tx`.
   */
  transaction<T>(fn: (tx: TxPorts) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` over one consistent, read-only view of the database, for work that reads
   * much and must not hold the writers up (reconciliation, audits): a read transaction on
   * a connection of its own on SQLite, REPEATABLE READ READ ONLY on PostgreSQL.
   */
  snapshot<T>(fn: (view: ReadPorts) => Promise<T>): Promise<T>;
  /**
   * An allowed redemption as one atomic step: spends one use only while the row was
   * issued for `spend.requestId`, is active, holds `spend.at` in its exact window and
   * is below both `max_uses` and the signed one; writes the redemption row and its
   * event with the use number filled in; and on the last use moves the request to
   * exhausted with its event. On PostgreSQL this is one statement, one round trip.
   * Null, with nothing written, when the row does not admit the use: the caller then
   * takes the full path, which records the refusal with its code.
   */
  spendUse(spend: UseSpend): Promise<SpentUse | null>;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  /** The connections' state, counted in memory: cheap enough for every scrape. */
  poolUsage(): PoolUsage;
  close(): Promise<void>;
}
