import type { Kysely, Selectable } from 'kysely';
import type { NhiId, PrincipalId } from '../../core/ids.js';
import type { Observation, ObservationId, ObservedFact } from '../../observation/observation.js';
import type { ObservationWriter } from '../../service/ports/observations.js';
import type { Database, ObservationsTable } from '../schema.js';
import { anyRowWhere } from './rows.js';

/** What collectors observed, keyed so that a re-sent observation is recorded once. */
export class KyselyObservations implements ObservationWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async exists(key: string): Promise<boolean> {
    return anyRowWhere(this.db, 'observations', 'key', key);
  }

  async latestObservedAt(subject: string, target: string, factKey: string): Promise<string | null> {
    const r = await this.db
      .selectFrom('observations')
      .select('observed_at')
      .where('subject', '=', subject)
      .where('target', '=', target)
      .where('fact_key', '=', factKey)
      .orderBy('observed_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r?.observed_at ?? null;
  }

  async insert(o: Observation, key: string, factKey: string, eventId: number): Promise<void> {
    await this.db
      .insertInto('observations')
      .values({
        id: o.id,
        key,
        observer: o.observer,
        subject: o.subject,
        target: o.target,
        fact_key: factKey,
        fact: JSON.stringify(o.fact),
        observed_at: o.observedAt,
        received_at: o.receivedAt,
        event_id: eventId,
      })
      .execute();
  }

  async list(): Promise<Observation[]> {
    const rows = await this.db
      .selectFrom('observations')
      .selectAll()
      .orderBy('observed_at')
      .execute();
    return rows.map(toObservation);
  }

  async latestAt(target: string): Promise<Observation[]> {
    // Equal times of one fact are resolved by id, so each fact yields exactly one row.
    const rows = await this.db
      .selectFrom('observations as o')
      .selectAll('o')
      .where('o.target', '=', target)
      .where((w) =>
        w.not(
          w.exists(
            w
              .selectFrom('observations as n')
              .select('n.id')
              .whereRef('n.subject', '=', 'o.subject')
              .whereRef('n.target', '=', 'o.target')
              .whereRef('n.fact_key', '=', 'o.fact_key')
              .where((eb) =>
                eb.or([
                  eb('n.observed_at', '>', eb.ref('o.observed_at')),
                  eb.and([
                    eb('n.observed_at', '=', eb.ref('o.observed_at')),
                    eb('n.id', '>', eb.ref('o.id')),
                  ]),
                ]),
              ),
          ),
        ),
      )
      .orderBy('o.subject')
      .orderBy('o.fact_key')
      .execute();
    return rows.map(toObservation);
  }
}

const toObservation = (r: Selectable<ObservationsTable>): Observation => ({
  id: r.id as ObservationId,
  observer: r.observer as PrincipalId,
  subject: r.subject as NhiId,
  target: r.target,
  observedAt: r.observed_at,
  fact: JSON.parse(r.fact) as ObservedFact,
  receivedAt: r.received_at,
});
