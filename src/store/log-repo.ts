import type { NodeHashes, NodeId, NewNode } from '../log/tree.js';
import type { StateRows } from '../replay/compare.js';

export interface StoredCheckpoint {
  readonly size: number;
  /** Hex of the root hash. */
  readonly root: string;
  readonly note: string;
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

/** The log's half of the persistence port. */
export interface LogRepo {
  /** Queued events with no leaf index yet, oldest first. */
  pendingEvents(limit: number): Promise<PendingEvent[]>;
  countPendingEvents(): Promise<number>;
  /** The time of the oldest event still queued for integration, or null when none is. */
  oldestQueuedAt(): Promise<string | null>;
  assignLeafIndices(rows: ReadonlyArray<{ id: number; index: number }>): Promise<void>;
  getNodes(ids: readonly NodeId[]): Promise<NodeHashes>;
  putNodes(nodes: readonly NewNode[]): Promise<void>;
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  getCheckpoint(size: number): Promise<StoredCheckpoint | null>;
  listCheckpoints(): Promise<StoredCheckpoint[]>;
  /** Up to `limit` stored checkpoints of size >= `from`, smallest first. */
  checkpointsFrom(from: number, limit: number): Promise<StoredCheckpoint[]>;
  /** The leaf index of each integrated `key.revoked` event, by the kid its leaf names. */
  keyRevocationIndices(): Promise<Map<string, number>>;
  insertCheckpoint(cp: StoredCheckpoint): Promise<void>;
  /** Integrated entries with start <= index < end, in index order. */
  getEntries(start: number, end: number): Promise<LogEntry[]>;
  /** Up to `limit` integrated entries with index >= `from`, in index order (gaps included as they are). */
  getEntryPage(from: number, limit: number): Promise<LogEntry[]>;
  /**
   * Every integrated entry whose leaf links to `requestId`, in index order: found by
   * the hashed leaf's own `links.request`, never by an unhashed column.
   */
  entriesForRequest(requestId: string): Promise<LogEntry[]>;
  /** Leaves of the events still queued for integration, in queue order. */
  queuedLeaves(): Promise<string[]>;
  /** The rows that cache what the log implies: warrants, requests and findings. */
  stateRows(): Promise<StateRows>;
}
