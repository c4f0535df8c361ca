import type { NhiId, PrincipalId } from '../../core/ids.js';
import type { Observation, ObservationId, ObservedFact } from '../../observation/observation.js';
import type { ClaimPoint } from '../../service/ports/observations.js';
import type { SubjectRange } from '../../service/ports/subjects.js';
import type { StatementCache } from './statements.js';

/** One row of a history as the scan reads it: the columns of `observations_facts`, in order. */
export type HistoryRow = [
  id: string,
  observer: string,
  subject: string,
  target: string,
  factKey: string,
  fact: string,
  observedAt: string,
  receivedAt: string,
];

const COLUMNS = 'id, observer, subject, target, fact_key, fact, observed_at, received_at';

/**
 * The ordered scan of a range's histories, in the order of `observations_facts` (migration
 * 014), so SQLite reads that index alone and sorts nothing. Exported for the test that
 * reads its query plan.
 */
export function historyScan(range: SubjectRange): { text: string; params: string[] } {
  const where: string[] = [];
  const params: string[] = [];
  if (range.after !== null) {
    where.push('subject > ?');
    params.push(range.after);
  }
  if (range.through !== null) {
    where.push('subject <= ?');
    params.push(range.through);
  }
  if (range.only !== undefined) {
    where.push(
      range.only.length === 0 ? '0' : `subject in (${range.only.map(() => '?').join(', ')})`,
    );
    params.push(...range.only);
  }
  const text =
    `select ${COLUMNS} from observations` +
    (where.length === 0 ? '' : ` where ${where.join(' and ')}`) +
    ' order by subject, target, fact_key, observed_at, received_at, id';
  return { text, params };
}

const sameFact = (a: HistoryRow, b: HistoryRow | undefined): boolean =>
  b !== undefined && a[2] === b[2] && a[3] === b[3] && a[4] === b[4];

/** Each place's claim instants, ascending. */
function claimTimes(claims: readonly ClaimPoint[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of claims) {
    const k = placeKey(c.subject, c.target);
    const times = out.get(k);
    if (times === undefined) out.set(k, [c.at]);
    else times.push(c.at);
  }
  for (const times of out.values()) times.sort();
  return out;
}

/**
 * What the rules read of histories in the order `historyScan` reads them (docs/decisions/
 * 0024): the first and the last row of every run of one value in each fact, and for each
 * claim the newest `secret_version` at its place made before it and the oldest made at or
 * after it. It keeps exactly what `runsOf` and `aroundClaims` select on PostgreSQL.
 *
 * It reads the rows once, deciding each when the next arrives, and holds only what it
 * keeps: one fact's history may run to millions of rows (a sighting every 15 s for a
 * year), which SQLite's window walked without handing them over. Claims are met in order
 * along each place's `secret_version` rows: a claim made after one row and at or before
 * the next is bounded by those two.
 */
export function keptForRules(
  rows: Iterable<HistoryRow>,
  claims: readonly ClaimPoint[],
): HistoryRow[] {
  const claimed = claimTimes(claims);
  const kept: HistoryRow[] = [];
  let prev: HistoryRow | undefined;
  let cur: HistoryRow | undefined;
  let curClaimed = false;
  // The claim instants of the place being read, and how many of them are behind it.
  let times: readonly string[] = [];
  let met = 0;
  const decide = (row: HistoryRow, next: HistoryRow | undefined): boolean => {
    const first = !sameFact(row, prev);
    const last = !sameFact(row, next);
    let nextClaimed = false;
    if (row[4] === 'secret_version') {
      if (first) {
        times = claimed.get(placeKey(row[2], row[3])) ?? [];
        met = 0;
        while (met < times.length && (times[met] as string) <= row[6]) met += 1;
      }
      const before = met;
      if (!last)
        while (met < times.length && (times[met] as string) <= (next as HistoryRow)[6]) met += 1;
      nextClaimed = met > before;
    }
    if (
      curClaimed ||
      nextClaimed ||
      first ||
      last ||
      (prev as HistoryRow)[5] !== row[5] ||
      (next as HistoryRow)[5] !== row[5]
    )
      kept.push(row);
    return nextClaimed;
  };
  for (const next of rows) {
    if (cur !== undefined) curClaimed = decide(cur, next);
    prev = cur;
    cur = next;
  }
  if (cur !== undefined) decide(cur, undefined);
  return kept;
}

const placeKey = (subject: string, target: string): string => JSON.stringify([subject, target]);

const toObservation = (r: HistoryRow): Observation => ({
  id: r[0] as ObservationId,
  observer: r[1] as PrincipalId,
  subject: r[2] as NhiId,
  target: r[3],
  observedAt: r[6],
  fact: JSON.parse(r[5]) as ObservedFact,
  receivedAt: r[7],
});

/** `ObservationReader.forRules` on SQLite: one ordered scan, the selection in JavaScript. */
export class SqliteHistory {
  constructor(private readonly statements: StatementCache) {}

  forRules(range: SubjectRange, claims: readonly ClaimPoint[]): Observation[] {
    const { text, params } = historyScan(range);
    // Rows as arrays, one at a time: only the kept ones are held, and become objects. The
    // text is this scan's alone, so no other reader of the cached statement sees raw mode.
    const rows = this.statements
      .get(text)
      .raw(true)
      .iterate(...params) as IterableIterator<HistoryRow>;
    try {
      return keptForRules(rows, claims).map(toObservation);
    } finally {
      // An iterator left open would keep the connection busy for every later statement.
      rows.return?.();
    }
  }
}
