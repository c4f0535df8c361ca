/**
 * What reaches a store between two passes, for the incremental pass the bench times:
 * `count` sightings, each of a fact already observed and showing the same value again (as
 * most sightings do), with the `observation.recorded` event a server logs for it.
 */
import SqliteDatabase from 'better-sqlite3';
import { encodeEvent } from '../src/log/event.js';

/** Every how many facts one is seen again, for about `count` of them. */
function step(db: SqliteDatabase.Database, count: number): number {
  const { facts } = db
    .prepare(
      'select count(*) as facts from (select distinct subject, target, fact_key from observations)',
    )
    .get() as { facts: number };
  return Math.max(1, Math.floor(facts / count));
}

export function addSightings(file: string, count: number, at: string): number {
  const db = new SqliteDatabase(file);
  try {
    // The newest sighting of every fact, and of those every k-th: seen again unchanged.
    const facts = db
      .prepare(
        `select observer, subject, target, fact_key, fact from (
          select *, row_number() over (order by subject, target, fact_key) as n from (
            select *, lead(id) over (partition by subject, target, fact_key
              order by observed_at, received_at, id) as later from observations)
          where later is null) where n % ? = 0 limit ?`,
      )
      .all(step(db, count), count) as {
      observer: string;
      subject: string;
      target: string;
      fact_key: string;
      fact: string;
    }[];
    const event = db.prepare(`insert into events (type, at, actor, request_id, warrant_id, nhi_id,
      leaf, leaf_hash, leaf_index) values ('observation.recorded', ?, ?, null, null, ?, ?, ?, null)`);
    const observation = db.prepare(`insert into observations (id, key, observer, subject, target,
      fact_key, fact, observed_at, received_at, event_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    db.transaction(() => {
      facts.forEach((f, i) => {
        const id = `obs_late_${i}`;
        const e = encodeEvent({
          v: 1,
          type: 'observation.recorded',
          at,
          actor: f.observer,
          links: { nhi: f.subject },
          data: { id },
        });
        const eventId = Number(
          event.run(at, f.observer, f.subject, e.leaf, e.leafHash).lastInsertRowid,
        );
        observation.run(
          id,
          `late-${i}`,
          f.observer,
          f.subject,
          f.target,
          f.fact_key,
          f.fact,
          at,
          at,
          eventId,
        );
      });
    })();
    return facts.length;
  } finally {
    db.close();
  }
}
