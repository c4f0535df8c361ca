import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { NhiId, PrincipalId } from '../../core/ids.js';
import type { Observation, ObservationId, ObservedFact } from '../../observation/observation.js';
import type {
  ClaimPoint,
  FactCursor,
  ObservationPage,
  ObservationProbe,
  ObservationWriter,
} from '../../service/ports/observations.js';
import type { Dialect } from '../../service/ports/store.js';
import type { SubjectRange } from '../../service/ports/subjects.js';
import type { Database, ObservationsTable } from '../schema.js';
import { anyRowWhere } from './rows.js';
import { inSubjects } from './subject-range.js';

/** What a reader of observations takes: on SQLite, every column `observations_facts` holds. */
type Row = Pick<
  Selectable<ObservationsTable>,
  'id' | 'observer' | 'subject' | 'target' | 'fact_key' | 'fact' | 'observed_at' | 'received_at'
>;

const COLUMNS = sql.raw('id, observer, subject, target, fact_key, fact, observed_at, received_at');

/** What collectors observed, keyed so that a re-sent observation is recorded once. */
export class KyselyObservations implements ObservationWriter {
  /** Ties of time are broken by id compared byte-wise, as SQLite and JavaScript compare it. */
  readonly #id: RawBuilder<unknown>;
  /** How a row is found again: SQLite's rowid, PostgreSQL's key. */
  readonly #row: RawBuilder<unknown>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect = 'sqlite',
    /** On SQLite, the histories read for the rules by one scan of the connection's own. */
    private readonly history?: HistoryForRules,
  ) {
    this.#id = byteWiseId(dialect);
    this.#row = sql.raw(dialect === 'postgres' ? 'id' : 'rowid');
  }

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

  async latest(
    range: SubjectRange,
    after: FactCursor | null,
    limit: number,
  ): Promise<ObservationPage> {
    const from =
      after === null
        ? sql`1 = 1`
        : sql`(subject, target, fact_key) > (${after.subject}, ${after.target}, ${after.factKey})`;
    const where = sql`${inSubjects('subject', range)} and ${from}`;
    const id = this.#id;
    // PostgreSQL keeps the first row of each fact in the order asked; SQLite keeps the row
    // no other follows in the index's own order, so its window needs no sort.
    const query =
      this.dialect === 'postgres'
        ? sql<Row>`select distinct on (subject, target, fact_key) ${COLUMNS}
            from observations where ${where}
            order by subject, target, fact_key, observed_at desc, received_at desc, ${id} desc
            limit ${limit}`
        : sql<Row>`select ${COLUMNS} from (
              select *, lead(id) over (partition by subject, target, fact_key
                order by observed_at, received_at, ${id}) as later
              from observations where ${where}) newest
            where later is null order by subject, target, fact_key limit ${limit}`;
    const { rows } = await query.execute(this.db);
    const last = rows.length < limit ? undefined : rows[rows.length - 1];
    return {
      observations: rows.map(toObservation),
      next:
        last === undefined
          ? null
          : { subject: last.subject, target: last.target, factKey: last.fact_key },
    };
  }

  async forRules(range: SubjectRange, claims: readonly ClaimPoint[]): Promise<Observation[]> {
    if (this.history !== undefined) return this.history.forRules(range, claims);
    // One row may be both a run's end and a claim's limit: each is handed over once.
    const byId = new Map<string, Observation>();
    for (const o of await this.changes(range)) byId.set(o.id, o);
    for (const o of await this.aroundClaims(range)) byId.set(o.id, o);
    return [...byId.values()];
  }

  /** The ends of every run of one value in each fact's history (`runsOf`). */
  async changes(range: SubjectRange): Promise<Observation[]> {
    const { rows } = await runsOf(range, this.dialect).execute(this.db);
    return rows.map(toObservation);
  }

  /** Each claim's limits, the claims read from `fulfilments` in the same query. */
  async aroundClaims(range: SubjectRange): Promise<Observation[]> {
    const id = this.#id;
    const nearest = (side: 'before' | 'from') =>
      side === 'before'
        ? sql`(select x.${this.#row} from observations x
            where x.subject = f.subject and x.target = f.target
              and x.fact_key = 'secret_version' and x.observed_at < f.at
            order by x.observed_at desc, x.received_at desc, x.${id} desc limit 1)`
        : sql`(select x.${this.#row} from observations x
            where x.subject = f.subject and x.target = f.target
              and x.fact_key = 'secret_version' and x.observed_at >= f.at
            order by x.observed_at, x.received_at, x.${id} limit 1)`;
    const claims = sql`fulfilments f where ${inSubjects('f.subject', range)}
      and f.phase = 'apply' and f.outcome = 'success' and f.fingerprint is not null`;
    // On SQLite by rowid: one look-up in the table instead of one in the key's index first.
    const { rows } = await sql<Row>`select ${COLUMNS} from observations where ${this.#row} in (
        select ${nearest('before')} from ${claims}
        union select ${nearest('from')} from ${claims})`.execute(this.db);
    return rows.map(toObservation);
  }

  async atOrBefore(probes: readonly ObservationProbe[]): Promise<Observation[]> {
    const out = new Map<string, Observation>();
    for (const p of probes) {
      const r = await this.db
        .selectFrom('observations')
        .selectAll()
        .where('subject', '=', p.subject)
        .where('target', '=', p.target)
        .where('fact_key', '=', p.factKey)
        .where('observed_at', '<=', p.at)
        .orderBy('observed_at', 'desc')
        .orderBy('received_at', 'desc')
        .orderBy(sql`${this.#id}`, 'desc')
        .limit(1)
        .executeTakeFirst();
      if (r !== undefined) out.set(r.id, toObservation(r));
    }
    return [...out.values()];
  }
}

/** `forRules` read another way than by the queries below (`sqlite/history.ts`). */
export interface HistoryForRules {
  forRules(range: SubjectRange, claims: readonly ClaimPoint[]): Observation[];
}

/** Ties of time are broken by id compared byte-wise, as SQLite and JavaScript compare it. */
const byteWiseId = (dialect: Dialect): RawBuilder<unknown> =>
  dialect === 'postgres' ? sql`id collate "C"` : sql`id`;

/**
 * The first and the last observation of every run of one value in each fact's history
 * (see `ObservationReader.changes`). A fact's value is its stored JSON: one key's facts
 * differ only in their value, and a value written twice is written alike, so a spurious
 * difference would only keep a row more. Every column read is in `observations_facts`
 * (migration 014): on SQLite the walk never looks a row up in the table.
 */
export function runsOf(range: SubjectRange, dialect: Dialect): RawBuilder<Row> {
  const id = byteWiseId(dialect);
  return sql<Row>`select ${COLUMNS} from (
      select ${COLUMNS},
        lag(fact) over w as prev_fact, lead(fact) over w as next_fact, lead(id) over w as later
      from observations where ${inSubjects('subject', range)}
      window w as (partition by subject, target, fact_key order by observed_at, received_at, ${id})) runs
    where later is null or prev_fact is null or prev_fact <> fact or next_fact <> fact`;
}

const toObservation = (r: Row): Observation => ({
  id: r.id as ObservationId,
  observer: r.observer as PrincipalId,
  subject: r.subject as NhiId,
  target: r.target,
  observedAt: r.observed_at,
  fact: JSON.parse(r.fact) as ObservedFact,
  receivedAt: r.received_at,
});
