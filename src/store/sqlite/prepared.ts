import type SqliteDatabase from 'better-sqlite3';
import type { Compilable, Kysely } from 'kysely';
import type { Database } from '../schema.js';

const SENTINEL = '\u0000countersign-arg:';

/**
 * A Kysely query compiled once and prepared on the raw connection. The builder is
 * called with placeholder arguments; each compiled parameter that is a placeholder is
 * bound from the call's arguments, every other one (a constant in the builder) keeps
 * its value. Kysely compiles each query anew on every call, which showed up as about
 * a tenth of the redemption profile.
 */
export class PreparedQuery<A extends object, R> {
  readonly #statement: SqliteDatabase.Statement;
  readonly #binders: readonly ((args: A) => unknown)[];

  constructor(
    raw: SqliteDatabase.Database,
    db: Kysely<Database>,
    build: (db: Kysely<Database>, args: A) => Compilable<R>,
    names: readonly (keyof A & string)[],
  ) {
    const placeholders = Object.fromEntries(names.map((n) => [n, SENTINEL + n])) as A;
    const compiled = build(db, placeholders).compile();
    this.#statement = raw.prepare(compiled.sql);
    this.#binders = compiled.parameters.map((p) => {
      if (typeof p === 'string' && p.startsWith(SENTINEL)) {
        const name = p.slice(SENTINEL.length) as keyof A;
        return (args: A) => args[name];
      }
      return () => p;
    });
  }

  #bind(args: A): unknown[] {
    return this.#binders.map((b) => b(args));
  }

  /** The first row, for a query that returns rows. */
  get(args: A): R | undefined {
    return this.#statement.get(this.#bind(args)) as R | undefined;
  }

  run(args: A): void {
    this.#statement.run(this.#bind(args));
  }
}
