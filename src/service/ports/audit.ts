import type { StateRows } from '../../replay/compare.js';

export interface AuditReader {
  /** The rows that cache what the log implies: warrants, requests and findings. */
  stateRows(): Promise<StateRows>;
}
