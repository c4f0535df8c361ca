import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { SubjectRange } from '../../service/ports/subjects.js';

/** `column` within `range` (see `SubjectRange`), as a condition for a query's where clause. */
export function inSubjects(column: string, range: SubjectRange): RawBuilder<SqlBool> {
  const parts: RawBuilder<unknown>[] = [];
  if (range.after !== null) parts.push(sql`${sql.ref(column)} > ${range.after}`);
  if (range.through !== null) parts.push(sql`${sql.ref(column)} <= ${range.through}`);
  if (range.only !== undefined)
    parts.push(
      range.only.length === 0
        ? sql`1 = 0`
        : sql`${sql.ref(column)} in (${sql.join(range.only.map((s) => sql`${s}`))})`,
    );
  return parts.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}
