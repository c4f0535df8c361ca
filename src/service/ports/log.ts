import type { EncodedEvent } from '../../log/event.js';
import type { NewNode, NodeHashes, NodeId } from '../../log/tree.js';

/** An event not yet in the log: its row id and its leaf. */
export interface QueuedEvent {
  readonly id: number;
  readonly leaf: string;
}

export interface StoredCheckpoint {
  readonly size: number;
  /** Hex of the root hash. */
  readonly root: string;
  /** The signed note; empty while the checkpoint waits for its signature. */
  readonly note: string;
  /** The signing key; empty while unsigned. */
  readonly kid: string;
  readonly at: string;
}

export interface LogEntry {
  readonly index: number;
  readonly leaf: string;
  /** Hex of the stored RFC 6962 leaf hash. */
  readonly leafHash: string;
}

export interface PendingEvent {
  readonly id: number;
  readonly leafHash: string;
}

/** The log as readers see it: integrated entries, signed checkpoints, proofs' nodes. */
export interface LogReader {
  /** The newest signed checkpoint. */
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  /** The signed checkpoint of exactly this size. */
  checkpoint(size: number): Promise<StoredCheckpoint | null>;
  /** Every signed checkpoint, smallest first. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  /** Up to `limit` signed checkpoints of size >= `from`, smallest first. */
  checkpointsFrom(from: number, limit: number): Promise<StoredCheckpoint[]>;
  nodes(ids: readonly NodeId[]): Promise<NodeHashes>;
  /** Integrated entries with start <= index < end, in index order. */
  entries(start: number, end: number): Promise<LogEntry[]>;
  /** Up to `limit` integrated entries with index >= `from`, in index order. */
  entryPage(from: number, limit: number): Promise<LogEntry[]>;
  /**
   * Every integrated entry whose leaf links to `requestId`, in index order: found by
   * the hashed leaf's own `links.request`, never by an unhashed column.
   */
  entriesForRequest(requestId: string): Promise<LogEntry[]>;
  /** The integrated events of these findings (raised and every move since), in log order. */
  entriesForFindings(findingIds: readonly string[]): Promise<LogEntry[]>;
  /**
   * The leaf index of each key's revocation, by kid. `revoked`: the kids the key table says
   * are revoked, each of which must then be found from the hashed leaves themselves.
   */
  keyRevocationIndices(revoked?: readonly string[]): Promise<Map<string, number>>;
  /** The leaf of the event with this id, integrated or still queued. */
  eventLeaf(id: number): Promise<string | null>;
  /** The events still queued for integration, in queue order, with their row ids. */
  queuedEvents(): Promise<QueuedEvent[]>;
  queuedCount(): Promise<number>;
  /** The time of the oldest event still queued, or null when none is. */
  oldestQueuedAt(): Promise<string | null>;
  /** Checkpoints whose signature is still missing (after a crash), smallest first. */
  unsigned(): Promise<StoredCheckpoint[]>;
}

/** The log as the use cases and the integrator write it. */
export interface LogWriter extends LogReader {
  /** Queues an event; the integrator gives it a leaf index later. Returns its id. */
  append(event: EncodedEvent): Promise<number>;
  /**
   * Queues events in order, in multi-row statements: a batch (a reconcile pass's
   * findings) costs a round trip per few hundred events, not one each. Returns their ids.
   */
  appendMany(events: readonly EncodedEvent[]): Promise<number[]>;
  /** Queued events with no leaf index yet, oldest first. */
  pending(limit: number): Promise<PendingEvent[]>;
  assignLeafIndices(rows: ReadonlyArray<{ id: number; index: number }>): Promise<void>;
  putNodes(nodes: readonly NewNode[]): Promise<void>;
  /** The newest checkpoint, signed or still waiting for its signature. */
  latestTree(): Promise<StoredCheckpoint | null>;
  insertCheckpoint(cp: StoredCheckpoint): Promise<void>;
  /** Signs a stored checkpoint: sets its note and key, once. */
  signCheckpoint(size: number, note: string, kid: string): Promise<void>;
  /**
   * The sequencer lock, held until the transaction ends: one integrator at a time
   * extends the tree (a PostgreSQL advisory lock; SQLite serialises writers).
   */
  lock(): Promise<void>;
  /** {@link lock} if no other transaction holds it; false at once, without waiting, if one does. */
  tryLock(): Promise<boolean>;
}
