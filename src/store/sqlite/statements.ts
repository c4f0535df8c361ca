import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as SqliteKyselyDatabase } from 'kysely';

/**
 * The one cache of prepared statements on a SQLite connection, by SQL text. Kysely
 * prepares every query anew and better-sqlite3 statements are reusable; the hot paths
 * run the same few texts, so both Kysely's queries and the hand-written redemption
 * statements (`hot-path.ts`) take theirs from here.
 */
export class StatementCache {
  readonly #cache = new Map<string, SqliteDatabase.Statement>();

  constructor(
    private readonly raw: SqliteDatabase.Database,
    private readonly max = 512,
  ) {}

  get(text: string): SqliteDatabase.Statement {
    let st = this.#cache.get(text);
    if (!st) {
      st = this.raw.prepare(text);
      if (this.#cache.size >= this.max) this.#cache.clear();
      this.#cache.set(text, st);
    }
    return st;
  }

  /** The connection as Kysely's SQLite dialect takes it, preparing through this cache. */
  forKysely(): SqliteKyselyDatabase {
    return { close: () => this.raw.close(), prepare: (text: string) => this.get(text) };
  }
}
