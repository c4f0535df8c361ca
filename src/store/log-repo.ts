import type { NodeHashes, NodeId, NewNode } from '../log/tree.js';

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
  assignLeafIndices(rows: ReadonlyArray<{ id: number; index: number }>): Promise<void>;
  getNodes(ids: readonly NodeId[]): Promise<NodeHashes>;
  putNodes(nodes: readonly NewNode[]): Promise<void>;
  latestCheckpoint(): Promise<StoredCheckpoint | null>;
  getCheckpoint(size: number): Promise<StoredCheckpoint | null>;
  listCheckpoints(): Promise<StoredCheckpoint[]>;
  insertCheckpoint(cp: StoredCheckpoint): Promise<void>;
  /** Integrated entries with start <= index < end, in index order. */
  getEntries(start: number, end: number): Promise<LogEntry[]>;
  /** Up to `limit` integrated entries with index >= `from`, in index order (gaps included as they are). */
  getEntryPage(from: number, limit: number): Promise<LogEntry[]>;
  /** Every integrated entry that links to `requestId`, in index order. */
  entriesForRequest(requestId: string): Promise<LogEntry[]>;
}
