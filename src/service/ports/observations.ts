import type { Observation } from '../../observation/observation.js';

export interface ObservationReader {
  exists(key: string): Promise<boolean>;
  latestObservedAt(subject: string, target: string, factKey: string): Promise<string | null>;
  list(): Promise<Observation[]>;
  /** The newest observation of each (subject, fact) at `target`: what it is known to hold now. */
  latestAt(target: string): Promise<Observation[]>;
}

export interface ObservationWriter extends ObservationReader {
  insert(o: Observation, key: string, factKey: string, eventId: number): Promise<void>;
}
