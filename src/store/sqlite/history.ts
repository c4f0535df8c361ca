import type { NhiId, PrincipalId } from '../../core/ids.js';
import type { Observation, ObservationId, ObservedFact } from '../../observation/observation.js';
import type { ClaimPoint } from '../../service/ports/observations.js';
import type { SubjectRange } from '../../service/ports/subjects.js';
import type { StatementCache } from './statements.js';

/** One row of a history as the scan reads it: the columns of `observations_facts`, in order. */
type HistoryRow = [
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

/** The first index in [from, to) whose observation was made at or after `at`. */
function firstFrom(rows: readonly HistoryRow[], from: number, to: number, at: string): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as HistoryRow)[6] >= at) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * What the rules read of histories sorted as `historyScan` reads them (docs/decisions/0024):
 * the first and the last row of every run of one value in each fact, and for each claim the
 * newest `secret_version` at its place made before it and the oldest made at or after it.
 * It keeps exactly what `runsOf` and `aroundClaims` select on PostgreSQL: compared in
 * JavaScript, one ordered scan costs about a third of SQLite's window over the same rows.
 */
export function keptForRules(
  rows: readonly HistoryRow[],
  claims: readonly ClaimPoint[],
): HistoryRow[] {
  const keep = new Uint8Array(rows.length);
  const versions = new Map<string, readonly [number, number]>();
  let start = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as HistoryRow;
    const prev = rows[i - 1];
    const next = rows[i + 1];
    if (!sameFact(r, prev)) start = i;
    const last = !sameFact(r, next);
    if (i === start || last || (prev as HistoryRow)[5] !== r[5] || (next as HistoryRow)[5] !== r[5])
      keep[i] = 1;
    if (last && r[4] === 'secret_version') versions.set(placeKey(r[2], r[3]), [start, i + 1]);
  }
  for (const c of claims) {
    const place = versions.get(placeKey(c.subject, c.target));
    if (place === undefined) continue;
    const from = firstFrom(rows, place[0], place[1], c.at);
    if (from > place[0]) keep[from - 1] = 1;
    if (from < place[1]) keep[from] = 1;
  }
  return rows.filter((_, i) => keep[i] === 1);
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
    // Rows as arrays: only the kept ones become objects. The text is this scan's alone,
    // so no other reader of the cached statement sees it in raw mode.
    const rows = this.statements
      .get(text)
      .raw(true)
      .all(...params) as HistoryRow[];
    return keptForRules(rows, claims).map(toObservation);
  }
}
