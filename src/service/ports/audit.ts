import type { NodeSource } from '../../log/node-audit.js';
import type { StateRows } from '../../replay/compare.js';
import type { RecordPage } from '../../replay/compare-records.js';
import type { RecordTable } from '../../replay/records.js';

/** What the state audit reads: the rows that cache the log, and its stored subtree hashes. */
export interface AuditReader extends NodeSource {
  /** The rows that cache what the log implies: warrants, requests and findings. */
  stateRows(): Promise<StateRows>;
  /**
   * Up to `limit` rows of a record table whose id sorts after `after`, in id order, each
   * with where the event it names stands (see `storedEventRef`).
   */
  recordPage(table: RecordTable, after: string | null, limit: number): Promise<RecordPage>;
}
