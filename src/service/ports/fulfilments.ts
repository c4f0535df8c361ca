import type { Fulfilment, FulfilmentPhase } from '../../fulfilment/fulfilment.js';

export interface FulfilmentReader {
  hasSuccess(receiptId: string, target: string, phase: FulfilmentPhase): Promise<boolean>;
  list(): Promise<Fulfilment[]>;
}

export interface FulfilmentWriter extends FulfilmentReader {
  insert(f: Fulfilment, eventId: number): Promise<void>;
}
