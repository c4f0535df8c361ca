import type { NodeSource } from '../../log/node-audit.js';
import type { StateRows } from '../../replay/compare.js';

/** What the state audit reads: the rows that cache the log, and its stored subtree hashes. */
export interface AuditReader extends NodeSource {
  /** The rows that cache what the log implies: warrants, requests and findings. */
  stateRows(): Promise<StateRows>;
}
