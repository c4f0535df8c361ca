import type { Fulfilment, FulfilmentPhase } from '../../fulfilment/fulfilment.js';
import type { SubjectRange } from './subjects.js';

export interface FulfilmentReader {
  hasSuccess(receiptId: string, target: string, phase: FulfilmentPhase): Promise<boolean>;
  /** Every report (of the subjects in `range`, when given), oldest first. */
  list(range?: SubjectRange): Promise<Fulfilment[]>;
}

export interface FulfilmentWriter extends FulfilmentReader {
  insert(f: Fulfilment, eventId: number): Promise<void>;
}
