import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../schema.js';

type Table = keyof Database;

/**
 * The row of `table` whose `column` equals `value`, if any: the read most repos make.
 * Written as SQL because Kysely's builder cannot type a query over a table chosen by a
 * type parameter; the parameters keep the table and column names checked.
 */
export async function rowWhere<T extends Table>(
  db: Kysely<Database>,
  table: T,
  column: keyof Database[T] & string,
  value: string | number,
): Promise<Selectable<Database[T]> | undefined> {
  const { rows } = await sql<Selectable<Database[T]>>`
    select * from ${sql.table(table)} where ${sql.ref(column)} = ${value} limit 1
  `.execute(db);
  return rows[0];
}

/** Whether any row of `table` has `column` equal to `value`. */
export async function anyRowWhere<T extends Table>(
  db: Kysely<Database>,
  table: T,
  column: keyof Database[T] & string,
  value: string | number,
): Promise<boolean> {
  const { rows } = await sql`
    select 1 from ${sql.table(table)} where ${sql.ref(column)} = ${value} limit 1
  `.execute(db);
  return rows.length > 0;
}
